"""Rendered training data: schema examples -> (prompt token ids, target token ids), stored compactly.

Prompts and targets come from the shared format module (`zeta2_capture.prompt`), the same code that renders
prompts for serving, so training and serving cannot drift apart. Examples whose expected edit falls outside
the editable region (`OutOfRegion`) or whose target is longer than the output budget (the smaller of the
configured cap and the prompt's `answer_budget`, the cap serving decodes under) are dropped and counted.

A rendered dataset is a folder that training reads without the format module or tree-sitter (so it can be
carried to a GPU machine as is):

    tokens.npz      ids (uint16 when the vocabulary fits, else uint32; all examples concatenated), prompt_lengths, target_lengths (int32)
    examples.txt    the example ids, one per line, in the same order
    tokenizer.json  the tokenizer with the format's special tokens added
    dataset.json    format name/version, token family, special token ids, counts, source sha256
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError

DATASET_VERSION = 1


@dataclass(frozen=True)
class Sample:
    """One training sequence: the loss is taken on `target_ids` only."""

    id: str
    prompt_ids: list[int]
    target_ids: list[int]

    def __len__(self) -> int:
        return len(self.prompt_ids) + len(self.target_ids)


@dataclass
class RenderCounts:
    read: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)

    def to_json(self) -> dict:
        return {"read": self.read, "kept": self.kept, "dropped": dict(sorted(self.dropped.items()))}

    def summary(self) -> str:
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items())) or "none"
        return f"{self.kept} of {self.read} examples rendered (dropped: {dropped})"


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_renderer(tokenizer_json: str | Path, family: str, max_prompt_tokens: int):
    """The shared Renderer with the family's special tokens added to the tokenizer."""
    from zeta2_capture import prompt

    if family not in prompt.TOKEN_MAPS:
        raise UserError(f"unknown token family {family!r}; known: {', '.join(sorted(prompt.TOKEN_MAPS))}")
    try:
        tokenizer = prompt.load_tokenizer(str(tokenizer_json), family)
        config = prompt.PromptConfig(max_prompt_tokens=max_prompt_tokens)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from None
    return prompt.Renderer(tokenizer, prompt.TOKEN_MAPS[family], config), tokenizer


def render_samples(examples: Iterable, renderer, counts: RenderCounts, max_target_tokens: int | None = None) -> Iterator[Sample]:
    """Renders each example's prompt and target; drops (and counts) what cannot be a training sample."""
    from zeta2_capture import prompt

    for example in examples:
        counts.read += 1
        if example.expected is None:
            counts.dropped["no expected text"] += 1
            continue
        try:
            rendered = renderer.render_prompt(example)
            target = renderer.render_target(rendered, example.expected)
        except ValueError as exc:  # an example the format cannot render (e.g. a prompt over budget)
            counts.dropped[f"render error ({type(exc).__name__})"] += 1
            continue
        if isinstance(target, prompt.OutOfRegion):
            counts.dropped["edit outside the editable region"] += 1
            continue
        target_ids = list(target.token_ids)
        budget = rendered.answer_budget if max_target_tokens is None else min(max_target_tokens, rendered.answer_budget)
        if len(target_ids) > budget:
            counts.dropped["target over the output budget"] += 1
            continue
        counts.kept += 1
        yield Sample(example.id, list(rendered.token_ids), target_ids)


def save_dataset(out_dir: str | Path, samples: list[Sample], tokenizer, meta: dict) -> Path:
    """Writes a rendered dataset folder (see the module docstring); returns the folder."""
    import numpy as np

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = np.fromiter((t for s in samples for t in (*s.prompt_ids, *s.target_ids)), dtype=np.uint32)
    if ids.size and int(ids.max()) < 1 << 16:
        ids = ids.astype(np.uint16)  # half the size: what travels to a GPU machine
    np.savez_compressed(
        out / "tokens.npz",
        ids=ids,
        prompt_lengths=np.array([len(s.prompt_ids) for s in samples], dtype=np.int32),
        target_lengths=np.array([len(s.target_ids) for s in samples], dtype=np.int32),
    )
    (out / "examples.txt").write_text("".join(s.id + "\n" for s in samples), encoding="utf-8")
    tokenizer.save(str(out / "tokenizer.json"))
    (out / "dataset.json").write_text(json.dumps({"dataset_version": DATASET_VERSION, **meta}, indent=2) + "\n")
    return out


@dataclass
class RenderedDataset:
    samples: list[Sample]
    meta: dict
    tokenizer_json: Path


def load_dataset(folder: str | Path) -> RenderedDataset:
    """Reads a folder written by `save_dataset`; errors name the file at fault."""
    import numpy as np

    folder = Path(folder)
    for name in ("tokens.npz", "examples.txt", "tokenizer.json", "dataset.json"):
        if not (folder / name).exists():
            raise UserError(f"{folder / name}: missing (not a rendered dataset folder)")
    try:
        meta = json.loads((folder / "dataset.json").read_text())
    except json.JSONDecodeError as exc:
        raise UserError(f"{folder / 'dataset.json'}: invalid JSON: {exc}") from None
    if meta.get("dataset_version") != DATASET_VERSION:
        raise UserError(f"{folder / 'dataset.json'}: dataset_version {meta.get('dataset_version')!r}, expected {DATASET_VERSION}")
    arrays = np.load(folder / "tokens.npz")
    ids = arrays["ids"].tolist()
    prompt_lengths = arrays["prompt_lengths"].tolist()
    target_lengths = arrays["target_lengths"].tolist()
    names = (folder / "examples.txt").read_text(encoding="utf-8").splitlines()
    if not (len(names) == len(prompt_lengths) == len(target_lengths)) or sum(prompt_lengths) + sum(target_lengths) != len(ids):
        raise UserError(f"{folder / 'tokens.npz'}: lengths do not match {folder / 'examples.txt'} (corrupt dataset)")
    samples, position = [], 0
    for name, p, t in zip(names, prompt_lengths, target_lengths, strict=True):
        samples.append(Sample(name, ids[position : position + p], ids[position + p : position + p + t]))
        position += p + t
    return RenderedDataset(samples, meta, folder / "tokenizer.json")


def render_file(
    input_path: str | Path,
    out_dir: str | Path,
    *,
    tokenizer_json: str | Path,
    family: str,
    max_prompt_tokens: int,
    max_output_tokens: int | None = None,
    limit: int | None = None,
    keep: int | None = None,
) -> tuple[RenderedDataset, RenderCounts]:
    """Renders a JSONL file of examples into a dataset folder: the first `limit` examples read, or until
    `keep` samples are rendered."""
    from itertools import islice

    from zeta2_capture import prompt
    from zeta2_capture.schema import read_examples

    renderer, tokenizer = make_renderer(tokenizer_json, family, max_prompt_tokens)
    if max_output_tokens is None:
        max_output_tokens = renderer.config.max_output_tokens()
    counts = RenderCounts()
    examples = read_examples(input_path)
    if limit is not None:
        examples = islice(examples, limit)
    samples = list(islice(render_samples(examples, renderer, counts, max_output_tokens), keep))
    if not samples:
        raise UserError(f"{input_path}: no trainable examples ({counts.summary()})")
    meta = {
        "format": prompt.FORMAT_NAME,
        "format_version": prompt.FORMAT_VERSION,
        "family": family,
        "max_prompt_tokens": max_prompt_tokens,
        "max_output_tokens": max_output_tokens,
        "special_token_ids": sorted(int(i) for i in renderer.special_token_ids),
        "end_token_id": int(renderer.end_token_id),
        "vocab_size": tokenizer.get_vocab_size(with_added_tokens=True),
        "source": str(input_path),
        "source_sha256": file_sha256(input_path) if str(input_path) != "-" else None,
        "counts": counts.to_json(),
    }
    folder = save_dataset(out_dir, samples, tokenizer, meta)
    return RenderedDataset(samples, json.loads((folder / "dataset.json").read_text()), folder / "tokenizer.json"), counts
