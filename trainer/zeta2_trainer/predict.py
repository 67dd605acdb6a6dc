"""`zeta2-trainer predict --model PACK_DIR -i examples.jsonl -o predictions.jsonl`.

Predictions come from the daemon's runtime (`zeta2_daemon.predictor.Predictor`), so offline numbers are the
numbers of the code users run. Each line is the brief's prediction record (`id`, `predicted` = full text after
the edit, `latency_ms`, `model`) plus `error` (why there is no edit, or null) and `stats` (timing breakdown,
tokens, drafts accepted). An answer that breaks the format predicts the text unchanged and says why in `error`.

`--baseline complete-at-cursor` runs the pack's model as a plain code completer instead: the text before the
cursor is the prompt, the greedy continuation up to the end of the line is inserted at the cursor. It is the
"what plain autocomplete would do" reference the next-edit model must beat.
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import islice
from pathlib import Path

from .errors import UserError

BASELINES = ("complete-at-cursor",)


def make_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="PACK_DIR", help="model pack folder")
    parser.add_argument("-i", "--input", required=True, help="examples, schema JSONL ('-' for stdin)")
    parser.add_argument("-o", "--output", default="-", help="predictions JSONL ('-' for stdout, the default)")
    parser.add_argument("--limit", type=int, default=None, help="predict only the first N examples")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="onnxruntime device (default auto: CUDA when it loads)")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime intra-op threads (default: the runtime's choice)")
    parser.add_argument("--max-prompt-tokens", type=int, default=None, help="prompt budget (default: the format's 2048)")
    parser.add_argument("--max-output-tokens", type=int, default=None, help="answer cap (default: the format's)")
    parser.add_argument("--no-speculate", action="store_true", help="plain greedy decoding (same answers, slower)")
    parser.add_argument("--min-noop-probability", type=float, default=None, metavar="P",
                        help="'no edit' needs at least this probability, else the best edit is answered "
                             "(default: the pack's manifest `decoding`, else 0 = plain greedy)")
    parser.add_argument("--unconstrained", action="store_true",
                        help="decode without the answer grammar (the model may leave the format)")
    parser.add_argument("--baseline", choices=BASELINES, default=None, help="run a reference baseline with the pack's model instead of next-edit prediction")
    parser.add_argument("--name", default=None, help="model name written into each prediction (default: the pack's label)")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")


def load_predictor(pack_dir: str | Path, *, device: str = "auto", threads: int | None = None, max_prompt_tokens: int | None = None,
                   max_output_tokens: int | None = None, min_noop_probability: float | None = None, constrain: bool = True):
    """The runtime predictor for a pack; a bad pack is a UserError naming the file."""
    from zeta2_capture.prompt import PromptConfig
    from zeta2_daemon.pack import PackError
    from zeta2_daemon.predictor import Predictor

    if min_noop_probability is not None and not 0 <= min_noop_probability <= 1:
        raise UserError(f"--min-noop-probability must be between 0 and 1, got {min_noop_probability}")
    config = PromptConfig(max_prompt_tokens=max_prompt_tokens) if max_prompt_tokens else None
    try:
        return Predictor(pack_dir, device=device, threads=threads, prompt_config=config, max_output_tokens=max_output_tokens,
                         min_noop_probability=min_noop_probability, constrain=constrain)
    except PackError as exc:
        raise UserError(str(exc)) from None
    except FileNotFoundError as exc:
        raise UserError(f"{pack_dir}: {exc}") from None


def predict_record(predictor, example, *, speculate: bool = True) -> dict:
    """One prediction line for one example (next-edit prediction)."""
    result = predictor.predict(example, speculate=speculate, reuse_prefix=False)
    record = result.to_prediction(example.before).to_json()
    record["error"] = result.error
    record["stats"] = result.stats_json()
    return record


_NEWLINE_IDS: dict[int, frozenset[int]] = {}


def _newline_token_ids(tokenizer) -> frozenset[int]:
    """Tokens that contain a line break ('Ċ' is byte-level BPE's newline): the completion stops at them."""
    key = id(tokenizer)
    if key not in _NEWLINE_IDS:
        vocab = tokenizer.get_vocab(with_added_tokens=False)
        _NEWLINE_IDS[key] = frozenset(i for token, i in vocab.items() if "Ċ" in token or "\n" in token)
    return _NEWLINE_IDS[key]


def complete_at_cursor(predictor, example, *, max_new_tokens: int = 48, context_tokens: int = 1024) -> dict:
    """The plain-completion baseline: continue the text before the cursor to the end of the line."""
    from zeta2_daemon.decoding import greedy

    started = time.perf_counter()
    renderer = predictor.renderer
    prefix_ids = renderer.encode(example.before[: example.cursor])[-context_tokens:]
    if not prefix_ids:
        prefix_ids = [renderer.eos_token_id if renderer.eos_token_id is not None else renderer.end_token_id]
    newline_ids = _newline_token_ids(renderer.tokenizer)
    with predictor._lock:
        result = greedy(predictor.runtime, prefix_ids, max_new_tokens=max_new_tokens, stop_ids=predictor.stop_ids | newline_ids, speculate=False)
    text = renderer.decode([t for t in result.tokens if t not in predictor.stop_ids])
    text = text.split("\n", 1)[0]
    predicted = example.before[: example.cursor] + text + example.before[example.cursor :]
    latency = (time.perf_counter() - started) * 1000
    return {"id": example.id, "predicted": predicted, "latency_ms": round(latency, 3), "model": "", "error": None, "stats": {"output_tokens": len(result.tokens)}}


def main(args: argparse.Namespace) -> int:
    from zeta2_capture.schema import JsonlWriter, ReadStats, read_examples

    if args.limit is not None and args.limit < 0:
        raise UserError(f"--limit must be at least 0, got {args.limit}")
    predictor = load_predictor(args.model, device=args.device, threads=args.threads, max_prompt_tokens=args.max_prompt_tokens,
                               max_output_tokens=args.max_output_tokens, min_noop_probability=args.min_noop_probability,
                               constrain=not args.unconstrained)
    name = args.name or (f"{predictor.model_name}+{args.baseline}" if args.baseline else predictor.model_name)
    stats = ReadStats()
    count = failed = 0
    started = time.perf_counter()
    with JsonlWriter(args.output) as out:
        for example in islice(read_examples(args.input, stats=stats), args.limit):
            if args.baseline == "complete-at-cursor":
                record = complete_at_cursor(predictor, example)
            else:
                record = predict_record(predictor, example, speculate=not args.no_speculate)
            record["model"] = name
            failed += record["error"] is not None
            out.write(record)
            count += 1
            if not args.quiet:
                print(f"\rpredicted {count} ({failed} without an edit) {time.perf_counter() - started:.0f}s", end="", file=sys.stderr)
    if not args.quiet:
        print(file=sys.stderr)
    print(f"{count} predictions by {name} on {predictor.device}, {failed} without an edit (format error, prompt error or deadline)", file=sys.stderr)
    return 0
