"""LoRA adapters: merging one into its base, compacting one for the repository, and the committed default.

`default/` (when present) is the trained adapter for the default SmolLM2-135M pack: peft's LoRA weights plus
only the format tokens' embedding rows (`trainable_tokens_delta`), in fp16, with `provenance.json` (how it
was trained, on what, and its eval numbers). `bootstrap` builds the default pack with

    from zeta2_trainer.adapters import merge_default_adapter
    merged_dir = merge_default_adapter(plain_smollm2_dir, out_dir)   # None when no default adapter ships

and exports `merged_dir` instead of the plain copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..errors import UserError

DEFAULT_ADAPTER = Path(__file__).resolve().parent / "default"


def default_adapter_dir() -> Path | None:
    """The committed default adapter, or None when this checkout has none."""
    if (DEFAULT_ADAPTER / "adapter_config.json").exists() and (DEFAULT_ADAPTER / "adapter_model.safetensors").exists():
        return DEFAULT_ADAPTER
    return None


def load_with_adapter(base_dir: str | Path, adapter_dir: str | Path, *, merge: bool = True):
    """The base model (fp32) with the adapter applied; merged into plain weights unless merge=False.

    The base is resized to the adapter's tokenizer first (the format's tokens); their trained rows come
    from the adapter's `trainable_tokens_delta`.
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base_dir, adapter_dir = Path(base_dir), Path(adapter_dir)
    for path in (base_dir / "config.json", adapter_dir / "adapter_config.json"):
        if not path.exists():
            raise UserError(f"{path}: missing")
    vocab = adapter_tokenizer(base_dir, adapter_dir).get_vocab_size(with_added_tokens=True)
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    if model.get_input_embeddings().weight.shape[0] < vocab:
        model.resize_token_embeddings(vocab, mean_resizing=False)  # rows are overwritten by the adapter's
    model = PeftModel.from_pretrained(model, str(adapter_dir), torch_dtype=torch.float32)
    # fp16 adapters (the committed default) are upcast: merging happens in fp32.
    model = model.float()
    return model.merge_and_unload() if merge else model


def adapter_tokenizer(base_dir: str | Path, adapter_dir: str | Path):
    """The adapter's tokenizer: its own tokenizer.json, else the base's with the format tokens added
    (deterministic, so the committed default adapter need not carry a 3.5 MB tokenizer)."""
    from tokenizers import Tokenizer

    from zeta2_capture.tokenmap import load_tokenizer

    own = Path(adapter_dir) / "tokenizer.json"
    if own.exists():
        return Tokenizer.from_file(str(own))
    provenance = Path(adapter_dir) / "provenance.json"
    family = json.loads(provenance.read_text()).get("family", "smollm2") if provenance.exists() else "smollm2"
    base_tokenizer = Path(base_dir) / "tokenizer.json"
    if not base_tokenizer.exists():
        raise UserError(f"{base_tokenizer}: missing (the adapter has no tokenizer.json of its own)")
    return load_tokenizer(base_tokenizer, family)


def merge_adapter(base_dir: str | Path, adapter_dir: str | Path, out_dir: str | Path) -> Path:
    """Writes base + adapter, merged, as a plain Hugging Face folder (with the adapter's tokenizer)."""
    from ..train import save_hf_folder

    merged = load_with_adapter(base_dir, adapter_dir, merge=True)
    merged.config.use_cache = True
    out = Path(out_dir)
    save_hf_folder(merged, adapter_tokenizer(base_dir, adapter_dir), out)
    provenance = Path(adapter_dir) / "provenance.json"
    if provenance.exists():
        shutil.copy(provenance, out / "zeta2_training.json")
    return out


def merge_default_adapter(base_dir: str | Path, out_dir: str | Path) -> Path | None:
    """The default pack's weights: the plain SmolLM2 copy with the committed adapter merged, or None."""
    adapter = default_adapter_dir()
    if adapter is None:
        return None
    return merge_adapter(base_dir, adapter, out_dir)


def default_provenance() -> dict | None:
    adapter = default_adapter_dir()
    if adapter is None or not (adapter / "provenance.json").exists():
        return None
    return json.loads((adapter / "provenance.json").read_text(encoding="utf-8"))


def compact_adapter(src: str | Path, dst: str | Path, provenance: dict | None = None) -> Path:
    """Copies an adapter in fp16 (LoRA weights and token rows only) for committing; returns dst.

    The tokenizer is left out: `adapter_tokenizer` rebuilds it from the base's and the format's tokens."""
    import torch
    from safetensors.torch import load_file, save_file

    src, dst = Path(src), Path(dst)
    weights = load_file(str(src / "adapter_model.safetensors"))
    extra = [k for k in weights if "lora_" not in k and "trainable_tokens_delta" not in k]
    if extra:
        raise UserError(f"{src}: adapter holds more than LoRA weights and token rows ({extra[0]}, ...)")
    dst.mkdir(parents=True, exist_ok=True)
    save_file({k: v.to(torch.float16).contiguous() for k, v in weights.items()}, str(dst / "adapter_model.safetensors"), metadata={"format": "pt"})
    config = json.loads((src / "adapter_config.json").read_text())
    config["base_model_name_or_path"] = "smollm2-135m-plain"  # a local path would not mean anything elsewhere
    (dst / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    if provenance is not None:
        (dst / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    return dst
