"""The tiny test pack: a tiny causal LM trained for seconds to give the exact answers of tests/fixtures/sessions.

Every end-to-end test of the product (daemon, editors, trainer) asserts exact suggestions with it, so it
must be deterministic and robust to small differences in how a caller builds the prompt. It is trained on
the sessions' Examples built the way the daemon builds them (edit history from `EditHistory` with a
driven clock, so fast typing coalesces into one event) plus augmented variants: history split into two
events by a pause, 0-2 older events in other files, related excerpts and diagnostics present or not.
"No edit" states (nothing typed yet) are trained too, so tests can assert both.

Training stops once teacher-forced greedy (argmax at every answer position over the FULL vocabulary, the
same as greedy decoding reproducing the answer token for token) is right with a margin on every training
example and at least 95% of the augmented ones (a held-out set of fresh variants is reported). The model is then exported with the same code as
`zeta2-trainer export` and checked once more through the real Predictor.

    python tests/tiny_pack.py [-o DIR]      # build (or reuse) the cached pack and print its folder
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SESSIONS_DIR = REPO / "tests" / "fixtures" / "sessions"
CACHE = REPO / ".cache" / "tests"
FAMILY = "smollm2"

# Files whose content changes what the pack must answer: a change rebuilds it.
_KEY_FILES = [
    "tests/tiny_pack.py",
    "capture/zeta2_capture/prompt.py",
    "capture/zeta2_capture/region.py",
    "capture/zeta2_capture/tokenmap.py",
    "capture/zeta2_capture/diffs.py",
    "capture/zeta2_capture/history.py",
    "capture/zeta2_capture/languages.py",
    "trainer/zeta2_trainer/export.py",
    "daemon/zeta2_daemon/pack.py",
]


# ----------------------------------------------------------------------------------------------
# sessions


class SessionError(ValueError):
    pass


@dataclass(frozen=True)
class Session:
    name: str
    path: str
    language: str
    initial: str
    edits: tuple[dict[str, Any], ...]
    final: str
    cursor: tuple[int, int]
    expected_text: str
    expected_edit: dict[str, Any]
    no_edit: tuple[tuple[int, int], ...]
    source: Path

    @property
    def cursor_offset(self) -> int:
        return offset_of(self.final, *self.cursor)

    def states(self) -> list[str]:
        """The text after each edit, the initial text first."""
        out = [self.initial]
        for edit in self.edits:
            out.append(apply_lsp_edit(out[-1], edit))
        return out


def offset_of(text: str, line: int, character: int) -> int:
    """Code-point offset of an LSP position (sessions are ASCII: characters are code points)."""
    lines = text.split("\n")
    if line >= len(lines):
        raise SessionError(f"line {line} is past the end of the text ({len(lines)} lines)")
    return sum(len(x) + 1 for x in lines[:line]) + min(character, len(lines[line]))


def apply_lsp_edit(text: str, edit: dict[str, Any]) -> str:
    r = edit["range"]
    start = offset_of(text, r["start"]["line"], r["start"]["character"])
    end = offset_of(text, r["end"]["line"], r["end"]["character"])
    return text[:start] + edit["text"] + text[end:]


def load_session(path: Path) -> Session:
    obj = json.loads(path.read_text(encoding="utf-8"))
    try:
        s = Session(
            name=obj["name"],
            path=obj["path"],
            language=obj["language"],
            initial=obj["initial"],
            edits=tuple(obj["edits"]),
            final=obj["final"],
            cursor=(obj["cursor"]["line"], obj["cursor"]["character"]),
            expected_text=obj["expected"]["text"],
            expected_edit=obj["expected"]["edit"],
            no_edit=tuple((c["cursor"]["line"], c["cursor"]["character"]) for c in obj.get("no_edit", [])),
            source=path,
        )
    except (KeyError, TypeError) as exc:
        raise SessionError(f"{path}: missing or malformed field {exc}") from None
    if s.states()[-1] != s.final:
        raise SessionError(f"{path}: replaying 'edits' on 'initial' does not give 'final'")
    if apply_lsp_edit(s.final, s.expected_edit) != s.expected_text:
        raise SessionError(f"{path}: applying expected.edit to 'final' does not give expected.text")
    return s


def load_sessions(directory: Path = SESSIONS_DIR) -> list[Session]:
    return [load_session(p) for p in sorted(Path(directory).glob("*.json"))]


# ----------------------------------------------------------------------------------------------
# examples


def _comment(language: str) -> str:
    return "#" if language == "python" else "//"


def events_for(session: Session, *, pause_at: int | None = None, wrap=lambda t: t) -> tuple:
    """The session's own edit events as the daemon's EditHistory makes them (typing 50 ms apart).

    `pause_at`: a 2 s pause before that edit splits the history into two events.
    """
    from zeta2_capture.history import EditHistory

    now = [1000.0]
    history = EditHistory(clock=lambda: now[0])
    states = [wrap(s) for s in session.states()]
    for i in range(1, len(states)):
        now[0] += 2.0 if pause_at is not None and i == pause_at else 0.05
        history.record(session.path, states[i - 1], states[i])
    return history.events()


_OTHER_FILES = [
    ("README.md", "# Project\n\nA small example.\n", "# Project\n\nA small example project.\n"),
    ("docs/notes.md", "Notes\n=====\n\n- first\n", "Notes\n=====\n\n- first\n- second\n"),
    ("Makefile", "test:\n\tpytest -q\n", "test:\n\tpytest -q -x\n"),
    ("config/settings.toml", "[server]\nport = 8080\n", "[server]\nport = 8081\n"),
]


def _older_events(rng: random.Random, sessions: list[Session], me: Session, count: int) -> list:
    from zeta2_capture.diffs import make_diff
    from zeta2_capture.schema import Event

    out = []
    for _ in range(count):
        if rng.random() < 0.5:
            path, a, b = rng.choice(_OTHER_FILES)
        else:
            other = rng.choice([s for s in sessions if s.name != me.name])
            path, a, b = other.path, other.initial, other.final
        out.append(Event(path, make_diff(a, b, path)))
    return out


def _related(rng: random.Random, sessions: list[Session], me: Session, count: int) -> list:
    from zeta2_capture.schema import Related

    out = []
    for other in rng.sample([s for s in sessions if s.name != me.name], count):
        lines = other.initial.splitlines(keepends=True)
        start = rng.randrange(0, max(1, len(lines) - 3))
        out.append(Related(other.path, start, "".join(lines[start : start + 3]), "definition"))
    return out


_MESSAGES = ["unused variable", "missing return type", "line too long", "undefined name"]


def _diagnostics(rng: random.Random, text: str, count: int) -> list:
    from zeta2_capture.schema import Diagnostic

    lines = text.split("\n")
    out = []
    for _ in range(count):
        line = rng.randrange(0, max(1, len(lines) - 1))
        out.append(Diagnostic((line, 0), (line, max(1, len(lines[line]))), rng.choice(["warning", "error", "hint"]), rng.choice(_MESSAGES), "lint"))
    return out


def session_example(session: Session, *, state: str = "edit", no_edit_index: int = 0, rng: random.Random | None = None,
                    sessions: list[Session] | None = None):
    """The Example of a session: state "edit" (after the edits) or "noop" (nothing typed, a no_edit cursor).

    With `rng`, a random augmented variant; without, the canonical one (what the daemon sends).
    """
    from zeta2_capture.schema import Example

    sessions = sessions or [session]
    header = footer = ""
    events: list = []
    related: list = []
    diagnostics: list = []
    pause_at = None
    if rng is not None:
        # (Header/footer lines around the file are not varied: they enter the answer's text, which a
        # memorising tiny model cannot copy, and the daemon never changes the file's text.)
        if state == "edit" and len(session.edits) > 2 and rng.random() < 0.3:
            pause_at = rng.randrange(2, len(session.edits))
        if len(sessions) > 1:
            events = _older_events(rng, sessions, session, rng.choice([0, 0, 1, 2]))
            if rng.random() < 0.4:
                related = _related(rng, sessions, session, rng.choice([1, 2]))

    def wrap(text: str) -> str:
        return header + text + footer

    if state == "edit":
        before, expected = wrap(session.final), wrap(session.expected_text)
        cursor = len(header) + session.cursor_offset
        events += list(events_for(session, pause_at=pause_at, wrap=wrap))
        suffix = "edit"
    elif state == "noop":
        line, character = session.no_edit[no_edit_index]
        before = expected = wrap(session.initial)
        cursor = len(header) + offset_of(session.initial, line, character)
        suffix = f"noop{no_edit_index}"
    else:
        raise ValueError(f"state must be edit or noop, got {state!r}")
    if rng is not None and rng.random() < 0.3:
        diagnostics = _diagnostics(rng, before, rng.choice([1, 2]))
    return Example(
        id=f"session:{session.name}:{suffix}",
        path=session.path,
        language=session.language,
        before=before,
        cursor=cursor,
        events=tuple(events),
        related=tuple(related),
        diagnostics=tuple(diagnostics),
        expected=expected,
        meta={"kind": "session", "session": session.name, "state": suffix},
    )


def canonical_examples(sessions: list[Session] | None = None) -> list:
    """Every session's edit state and no-edit states, as the daemon would send them."""
    sessions = sessions or load_sessions()
    out = []
    for s in sessions:
        out.append(session_example(s, state="edit"))
        out += [session_example(s, state="noop", no_edit_index=i) for i in range(len(s.no_edit))]
    return out


def augmented_examples(sessions: list[Session], seed: int, per_edit: int, per_noop: int) -> list:
    rng = random.Random(seed)
    out = []
    for s in sessions:
        out += [session_example(s, state="edit", rng=rng, sessions=sessions) for _ in range(per_edit)]
        for i in range(len(s.no_edit)):
            out += [session_example(s, state="noop", no_edit_index=i, rng=rng, sessions=sessions) for _ in range(per_noop)]
    return out


# ----------------------------------------------------------------------------------------------
# training


def _pairs(renderer, examples: list) -> list[tuple[list[int], list[int], str]]:
    from zeta2_capture.prompt import OutOfRegion

    out = []
    for ex in examples:
        pair = renderer.render_training_pair(ex)
        if isinstance(pair, OutOfRegion):
            raise SessionError(f"{ex.id}: the expected edit is outside the editable region: {pair.reason}")
        prompt, target = pair
        out.append((prompt.token_ids, target.token_ids, ex.id))
    return out


def _batch(pairs, torch):
    n = max(len(p) + len(t) for p, t, _ in pairs)
    ids = torch.zeros((len(pairs), n), dtype=torch.long)
    mask = torch.zeros((len(pairs), n), dtype=torch.long)
    rows, cols, targets = [], [], []
    for b, (p, t, _) in enumerate(pairs):
        seq = p + t
        ids[b, : len(seq)] = torch.tensor(seq)
        mask[b, : len(seq)] = 1
        for i, tok in enumerate(t):
            rows.append(b)
            cols.append(len(p) - 1 + i)
            targets.append(tok)
    return ids, mask, torch.tensor(rows), torch.tensor(cols), torch.tensor(targets)


def _hidden_at(model, batch, torch):
    ids, mask, rows, cols, targets = batch
    hidden = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
    return hidden[rows, cols], targets


def _failing(model, pairs, torch, margin: float, chunk: int = 16) -> list:
    """The pairs some answer token of which is not the full-vocabulary argmax by at least `margin`."""
    bad = []
    with torch.no_grad():
        for i in range(0, len(pairs), chunk):
            part = pairs[i : i + chunk]
            batch = _batch(part, torch)
            h, targets = _hidden_at(model, batch, torch)
            logits = model.lm_head(h)
            target_logit = logits.gather(1, targets[:, None])[:, 0]
            logits.scatter_(1, targets[:, None], float("-inf"))
            gap = target_logit - logits.max(dim=1).values
            rows = batch[2]
            for b in range(len(part)):
                if gap[rows == b].min().item() <= margin:
                    bad.append(part[b])
    return bad


def train_tiny_model(sessions: list[Session], tokenizer_json: Path, *, seed: int = 0, max_steps: int = 600,
                     decay_steps: int = 300, lr: float = 1e-2, batch_size: int = 8, check_every: int = 25,
                     margin: float = 1.0, hidden: int = 64, log=print):
    """Trains the tiny model; returns (model, renderer, report)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from zeta2_capture.prompt import Renderer
    from zeta2_capture.tokenmap import load_tokenizer

    torch.manual_seed(seed)
    tokenizer = load_tokenizer(tokenizer_json, FAMILY)
    renderer = Renderer(tokenizer, FAMILY)
    train = _pairs(renderer, canonical_examples(sessions) + augmented_examples(sessions, seed=seed, per_edit=11, per_noop=3))
    held = _pairs(renderer, augmented_examples(sessions, seed=seed + 1000, per_edit=4, per_noop=2))
    canonical = _pairs(renderer, canonical_examples(sessions))
    vocab = tokenizer.get_vocab_size(with_added_tokens=True)
    config = LlamaConfig(
        vocab_size=vocab, hidden_size=hidden, intermediate_size=hidden * 4, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=True, rms_norm_eps=1e-6,
        bos_token_id=None, eos_token_id=renderer.end_token_id, pad_token_id=0,
    )
    model = LlamaForCausalLM(config)
    # The softmax runs over the tokens the data uses (an order of magnitude cheaper than 49k);
    # the full-vocabulary check below decides when training is done.
    subset = sorted({t for p, tg, _ in train + held for t in p + tg})
    subset_ids = torch.tensor(subset)
    remap = torch.full((vocab,), -1, dtype=torch.long)
    remap[subset_ids] = torch.arange(len(subset))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    rng = random.Random(seed)
    started = time.perf_counter()
    report: dict[str, Any] = {}
    failing: list = []
    step = 0
    passed = False
    for step in range(1, max_steps + 1):
        # Warm up, then cosine down to 5% over `decay_steps`; past it, a small constant rate.
        if step <= 20:
            scale = step / 20
        elif step <= decay_steps:
            scale = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - 20) / (decay_steps - 20)))
        else:
            scale = 0.05
        for group in optimizer.param_groups:
            group["lr"] = lr * scale
        model.train()
        # Half of each batch from the examples that failed the last check (hard-example mining).
        part = rng.sample(train, batch_size)
        if failing:
            k = min(len(failing), batch_size // 2)
            part = rng.sample(failing, k) + part[: batch_size - k]
        batch = _batch(part, torch)
        h, targets = _hidden_at(model, batch, torch)
        logits = h @ model.lm_head.weight[subset_ids].T
        loss = torch.nn.functional.cross_entropy(logits, remap[targets])
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % check_every == 0 or step == max_steps:
            model.eval()
            bad_c = _failing(model, canonical, torch, margin)
            full = step % (4 * check_every) == 0 or step >= decay_steps
            bad_t = _failing(model, train, torch, margin) if not bad_c and full else None
            bad_h = _failing(model, held, torch, 0.0) if bad_t is not None and len(bad_t) <= len(train) // 20 else None
            failing = [*bad_c, *(bad_t or [])]
            def show(bad, total):
                return "?" if bad is None else f"{len(total) - len(bad)}/{len(total)}"
            log(f"tiny pack: step {step} loss {loss.item():.4f} canonical {show(bad_c, canonical)} "
                f"train {show(bad_t, train)} held-out {show(bad_h, held)} {time.perf_counter() - started:.0f}s")
            report = {"steps": step, "loss": round(loss.item(), 5), "canonical": show(bad_c, canonical),
                      "train": show(bad_t, train), "held_out": show(bad_h, held)}
            # Done: canonical answers exact with a margin, >= 95% of the augmented variants exact.
            if not bad_c and bad_t is not None and len(bad_t) <= len(train) // 20 and (bad_h == [] or step >= decay_steps):
                passed = True
                break
    report["seconds"] = round(time.perf_counter() - started, 1)
    if not passed:
        bad_c = _failing(model, canonical, torch, margin)
        if bad_c:
            raise RuntimeError(f"tiny pack: after {step} steps {len(bad_c)}/{len(canonical)} canonical answers are not exact")
        log(f"tiny pack: step cap reached; canonical answers exact, train {report.get('train')}, held-out {report.get('held_out')}")
    model.eval()
    return model, renderer, report


# ----------------------------------------------------------------------------------------------
# build + cache


def cache_key(tokenizer_json: Path) -> str:
    import torch
    import transformers

    digest = hashlib.sha256()
    for name in _KEY_FILES:
        path = REPO / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"<absent>")
    for path in sorted(SESSIONS_DIR.glob("*.json")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(Path(tokenizer_json).read_bytes())
    digest.update(f"{torch.__version__} {transformers.__version__}".encode())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _lock(path: Path):
    """An exclusive file lock: several test runs in one tree build the pack once."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_tiny_pack(out_dir: Path, tokenizer_json: Path, *, log=print) -> dict[str, Any]:
    """Trains, exports and verifies the tiny pack at `out_dir`; returns the training report."""
    import torch

    sys.path.insert(0, str(REPO / "trainer"))
    from zeta2_daemon.predictor import Predictor
    from zeta2_trainer.export import export_pack

    sessions = load_sessions()
    # One thread: on a shared, loaded machine torch's spinning threads make a step 20x slower.
    torch.set_num_threads(1)
    model, renderer, report = train_tiny_model(sessions, tokenizer_json, log=log)
    with tempfile.TemporaryDirectory(prefix="tiny-hf-") as hf:
        model.save_pretrained(hf)
        renderer.tokenizer.save(str(Path(hf) / "tokenizer.json"))
        export_pack(
            hf, out_dir, name="zeta2-tiny-test", version="0.1.0", family=FAMILY, base_model="random init (LlamaConfig 2x128)",
            trained=True, note="tiny test model: trained only to answer tests/fixtures/sessions; useless elsewhere",
            eval_summary={"sessions": len(sessions), **report}, provenance={"command": "tests/tiny_pack.py"}, force=True,
        )
    predictor = Predictor(out_dir, threads=1)
    for ex in canonical_examples(sessions):
        got = predictor.predict(ex, reuse_prefix=False)
        if got.predicted != ex.expected:
            raise RuntimeError(f"tiny pack: {ex.id}: the exported pack answers {got.output_text!r} ({got.error})")
    return report


def tiny_pack_dir(tokenizer_json: Path, *, log=print) -> Path:
    """The cached tiny pack for the current sources, built on first use (once, whoever asks first)."""
    key = cache_key(tokenizer_json)
    target = CACHE / f"tinypack-{key}"
    if (target / "manifest.json").exists():
        return target
    # One lock per key: a build for other sources never makes this one wait. Old packs are left in
    # place (a concurrent run in the same tree may still be using one).
    with _lock(CACHE / f"tinypack-{key}.lock"):
        if (target / "manifest.json").exists():
            return target
        staging = CACHE / f".tinypack-{key}.building"
        shutil.rmtree(staging, ignore_errors=True)
        build_tiny_pack(staging, tokenizer_json, log=log)
        staging.rename(target)
    return target


def _smollm2_tokenizer() -> Path:
    from zeta2_trainer.smollm2 import extract_tokenizer

    return extract_tokenizer(CACHE / "smollm2-tokenizer")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=None, help="also copy the pack to this folder")
    args = parser.parse_args()
    pack = tiny_pack_dir(_smollm2_tokenizer())
    if args.output:
        shutil.copytree(pack, args.output, dirs_exist_ok=True)
        pack = args.output
    print(pack)
