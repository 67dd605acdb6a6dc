"""`zeta2-trainer export HF_DIR -o PACK_DIR [--quantize int4|fp16]`: a Hugging Face causal LM to a model pack.

optimum-onnx exports the decoder with past KV (task text-generation-with-past). Two small graph edits
then serve the daemon's decoder (zeta2_daemon.decoding):
  * input `logits_to_keep` [1]: the lm_head runs only on the last k positions (a 2,048-token prefill
    needs the logits of one position, not 2,048 x vocab);
  * output `next_token_ids` = ArgMax(logits): on CUDA only these ids come back to the host.
The pack is written to a temporary folder beside PACK_DIR and renamed into place, so a failed export
never leaves a half-written pack where the daemon looks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import UserError

INT64_MAX = 2**63 - 1


def make_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hf_dir", type=Path, metavar="HF_DIR", help="Hugging Face model folder (config.json, weights, tokenizer.json)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="PACK_DIR", help="model pack folder to write")
    parser.add_argument("--quantize", choices=("int4", "fp16"), default=None, help="int4 (MatMulNBits weights) or fp16; default fp32")
    parser.add_argument("--name", default=None, help="pack name (default: the folder's name)")
    parser.add_argument("--pack-version", default="0.1.0", help="pack version (default 0.1.0)")
    parser.add_argument("--family", default="smollm2", help="token-map family of the tokenizer (default smollm2)")
    parser.add_argument("--base-model", default=None, help="base model the weights come from (default: config's _name_or_path)")
    parser.add_argument("--untrained", action="store_true", help="mark the pack as the untrained base model")
    parser.add_argument("--note", default="", help="free text stored in the manifest")
    parser.add_argument("--eval", type=Path, default=None, metavar="JSON", help="eval summary (JSON object) to store in the manifest")
    parser.add_argument("--force", action="store_true", help="replace PACK_DIR even when it is not a model pack")


def main(args: argparse.Namespace) -> int:
    eval_summary = None
    if args.eval is not None:
        try:
            eval_summary = json.loads(args.eval.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UserError(f"{args.eval}: cannot read the eval summary ({exc})") from None
        if not isinstance(eval_summary, dict):
            raise UserError(f"{args.eval}: the eval summary must be a JSON object")
    out = export_pack(
        args.hf_dir,
        args.output,
        quantize=args.quantize,
        name=args.name,
        version=args.pack_version,
        family=args.family,
        base_model=args.base_model,
        trained=not args.untrained,
        note=args.note,
        eval_summary=eval_summary,
        force=args.force,
        provenance={"command": "zeta2-trainer export", "source": str(args.hf_dir), **_training_provenance(args.hf_dir)},
    )
    print(f"wrote model pack {out}")
    return 0


def _training_provenance(hf_dir: Path) -> dict[str, Any]:
    """How the model was trained, as `train` and `merge_adapter` record it beside the weights."""
    record = Path(hf_dir) / "zeta2_training.json"
    if not record.exists():
        return {}
    try:
        return {"training": json.loads(record.read_text(encoding="utf-8"))}
    except json.JSONDecodeError as exc:
        raise UserError(f"{record}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


# ----------------------------------------------------------------------------------------------


def _check_output(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not force:
        if out_dir.is_file():
            raise UserError(f"{out_dir}: exists and is a file, not a model pack folder")
        if any(out_dir.iterdir()) and not (out_dir / "manifest.json").exists():
            raise UserError(f"{out_dir}: exists, is not empty and is not a model pack; use --force to replace it")


def add_serving_outputs(model: Any) -> bool:
    """Adds `logits_to_keep` and `next_token_ids` to an optimum decoder graph; False when its shape is unexpected."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    producer = next((n for n in graph.node if "logits" in n.output), None)
    if producer is None or producer.op_type != "MatMul":
        return False
    hidden = producer.input[0]
    graph.input.append(helper.make_tensor_value_info("logits_to_keep", TensorProto.INT64, [1]))
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array([INT64_MAX], dtype=np.int64), "/zeta2/keep_end"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "/zeta2/keep_axis"),
        ]
    )
    neg = helper.make_node("Neg", ["logits_to_keep"], ["/zeta2/keep_start"], name="/zeta2/Neg")
    cut = helper.make_node(
        "Slice", [hidden, "/zeta2/keep_start", "/zeta2/keep_end", "/zeta2/keep_axis"], ["/zeta2/kept_hidden"], name="/zeta2/Slice"
    )
    producer.input[0] = "/zeta2/kept_hidden"
    index = list(graph.node).index(producer)
    graph.node.insert(index, cut)
    graph.node.insert(index, neg)
    logits = next(o for o in graph.output if o.name == "logits")
    logits.type.tensor_type.shape.dim[1].dim_param = "logits_to_keep"
    graph.node.append(helper.make_node("ArgMax", ["logits"], ["next_token_ids"], axis=-1, keepdims=0, name="/zeta2/ArgMax"))
    graph.output.append(helper.make_tensor_value_info("next_token_ids", TensorProto.INT64, ["batch_size", "logits_to_keep"]))
    return True


def _quantize(model: Any, quantize: str | None) -> Any:
    if quantize is None:
        return model
    if quantize == "fp16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        # keep_io_types=False: the KV cache itself is fp16 (half the memory); the runtime reads input types.
        return convert_float_to_float16(model, keep_io_types=False, disable_shape_infer=True)
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    except ImportError as exc:
        raise UserError(f"--quantize int4 needs onnxruntime's MatMulNBits quantizer: {exc} (pip install onnx-ir)") from None
    quantizer = MatMulNBitsQuantizer(model, bits=4, block_size=32, is_symmetric=True)
    quantizer.process()
    return quantizer.model.model


def _graph_shapes(model: Any) -> dict[str, Any]:
    inputs = {i.name: i for i in model.graph.input}
    past = sorted(n for n in inputs if n.startswith("past_key_values."))
    if not past:
        raise UserError("the exported model has no past_key_values inputs (not a decoder with past)")
    dims = inputs[past[0]].type.tensor_type.shape.dim
    elem = inputs[past[0]].type.tensor_type.elem_type
    logits = next(o for o in model.graph.output if o.name == "logits")
    return {
        "inputs": [i.name for i in model.graph.input],
        "outputs": [o.name for o in model.graph.output],
        "num_layers": len(past) // 2,
        "num_kv_heads": int(dims[1].dim_value),
        "head_dim": int(dims[3].dim_value),
        "vocab_size": int(logits.type.tensor_type.shape.dim[2].dim_value),
        "kv_dtype": {1: "float32", 10: "float16", 16: "bfloat16"}.get(elem, str(elem)),
    }


def export_pack(
    hf_dir: str | Path,
    out_dir: str | Path,
    *,
    quantize: str | None = None,
    name: str | None = None,
    version: str = "0.1.0",
    family: str = "smollm2",
    base_model: str | None = None,
    trained: bool = True,
    note: str = "",
    eval_summary: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
    decoding: dict[str, Any] | None = None,
    force: bool = False,
    quiet: bool = True,
) -> Path:
    """Exports `hf_dir` to a validated model pack at `out_dir`; returns `out_dir`."""
    import onnx

    from zeta2_capture.prompt import FORMAT_NAME, FORMAT_VERSION
    from zeta2_capture.tokenmap import load_tokenizer, token_map_for
    from zeta2_daemon.pack import (
        MODEL_FILE,
        PACK_FORMAT,
        TOKENIZER_FILE,
        load_pack,
        sha256_file,
        write_manifest,
    )

    hf_dir, out_dir = Path(hf_dir), Path(out_dir).expanduser()
    if not (hf_dir / "config.json").exists():
        raise UserError(f"{hf_dir}: no config.json; HF_DIR must be a Hugging Face model folder")
    if not (hf_dir / "tokenizer.json").exists():
        raise UserError(f"{hf_dir}: no tokenizer.json (save the tokenizer with the model)")
    if quantize not in (None, "int4", "fp16"):
        raise UserError(f"--quantize must be int4 or fp16, got {quantize!r}")
    _check_output(out_dir, force)
    token_map = token_map_for(family)
    config = json.loads((hf_dir / "config.json").read_text(encoding="utf-8"))

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        onnx_dir = work / "optimum"
        _optimum_export(hf_dir, onnx_dir, quiet)
        model = onnx.load(str(onnx_dir / "model.onnx"))
        logits_to_keep = add_serving_outputs(model)
        model = _quantize(model, quantize)
        shapes = _graph_shapes(model)
        stage = work / "pack"
        stage.mkdir()
        external: list[str] = []
        if model.ByteSize() > 1_800_000_000:  # protobuf's 2 GB limit: weights go to a side file
            external = [MODEL_FILE + ".data"]
            onnx.save_model(model, str(stage / MODEL_FILE), save_as_external_data=True, all_tensors_to_one_file=True, location=external[0])
        else:
            onnx.save_model(model, str(stage / MODEL_FILE))
        del model
        shutil.rmtree(onnx_dir, ignore_errors=True)

        tokenizer = load_tokenizer(hf_dir / "tokenizer.json", family)
        tokenizer.save(str(stage / TOKENIZER_FILE))
        special = {t: tokenizer.token_to_id(t) for t in token_map.special_tokens}
        too_big = {t: i for t, i in special.items() if i >= shapes["vocab_size"]}
        if too_big:
            first = next(iter(too_big))
            raise UserError(
                f"{hf_dir}: the model has {shapes['vocab_size']} embedding rows but the format token {first} has id "
                f"{too_big[first]}; add the format tokens and resize the embeddings before exporting (bootstrap does)"
            )
        precision = quantize or "fp32"
        manifest = {
            "pack_format": PACK_FORMAT,
            "name": name or out_dir.name,
            "version": version,
            "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "prompt_format": {"name": FORMAT_NAME, "version": FORMAT_VERSION},
            "token_map": {"family": family, "special_token_ids": special},
            "base_model": base_model or str(config.get("_name_or_path") or hf_dir.name),
            "precision": precision,
            "quantization": {"int4": "MatMulNBits 4-bit, block 32, symmetric", "fp16": "float16 weights and KV cache"}.get(
                quantize or "", None
            ),
            "context_length": int(config.get("max_position_embeddings") or 2048),
            "trained": trained,
            "note": note,
            "model": {
                "file": MODEL_FILE,
                "bytes": (stage / MODEL_FILE).stat().st_size,
                "sha256": sha256_file(stage / MODEL_FILE),
                "external_data": external,
                **shapes,
                "logits_to_keep": logits_to_keep,
            },
            "tokenizer": {
                "file": TOKENIZER_FILE,
                "sha256": sha256_file(stage / TOKENIZER_FILE),
                "vocab_size": tokenizer.get_vocab_size(with_added_tokens=True),
            },
            "provenance": {
                "tool": "zeta2-trainer export",
                "exporter": "optimum-onnx text-generation-with-past",
                "architecture": (config.get("architectures") or ["?"])[0],
                **(provenance or {}),
            },
            "eval": eval_summary,
        }
        if decoding:  # decoding settings tuned for this model (e.g. min_noop_probability)
            manifest["decoding"] = decoding
        write_manifest(stage, manifest)
        load_pack(stage, verify_checksums=True)  # the pack we hand out must load
        if out_dir.exists():
            old = work / "replaced"
            out_dir.rename(old)
        stage.rename(out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out_dir


def _optimum_export(hf_dir: Path, onnx_dir: Path, quiet: bool) -> None:
    import contextlib
    import io
    import logging
    import warnings

    from optimum.exporters.onnx import main_export

    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        warnings.simplefilter("ignore")
        previous = logging.root.manager.disable
        if quiet:
            logging.disable(logging.WARNING)
        try:
            main_export(
                str(hf_dir), output=str(onnx_dir), task="text-generation-with-past", do_validation=False, device="cpu"
            )
        except Exception as exc:
            raise UserError(f"{hf_dir}: optimum-onnx could not export it: {str(exc).strip()[:400]}") from None
        finally:
            logging.disable(previous)
    if not (onnx_dir / "model.onnx").exists():
        raise UserError(f"{hf_dir}: optimum-onnx wrote no model.onnx")
