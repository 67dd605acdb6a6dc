"""`zeta2-trainer bootstrap`: the SmolLM2-135M pack from the GGUF, with the format tokens, logits equal to PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def test_bootstrap_pack_is_the_untrained_base(smollm2_pack):
    from zeta2_capture.tokenmap import token_map_for
    from zeta2_daemon.pack import load_pack

    pack = load_pack(smollm2_pack)
    manifest = pack.manifest
    assert manifest["trained"] is False and "untrained base model" in manifest["note"]
    assert manifest["name"] == "smollm2-135m-base" and manifest["precision"] == "fp32"
    assert "SmolLM2-135M" in manifest["base_model"]
    assert manifest["model"]["num_layers"] == 30 and manifest["model"]["vocab_size"] == 49152 + len(
        token_map_for("smollm2").special_tokens
    )
    assert manifest["provenance"]["command"] == "zeta2-trainer bootstrap --untrained"


def test_new_token_embeddings_are_the_mean(smollm2_pack):
    from safetensors.numpy import load_file

    weights = load_file(str(smollm2_pack.parent / "hf" / "model.safetensors"))
    embed = weights["model.embed_tokens.weight"]
    np.testing.assert_allclose(embed[49152:], np.broadcast_to(embed[:49152].mean(0), embed[49152:].shape), atol=1e-5)


def test_pack_logits_match_pytorch(smollm2_pack):
    """Parity: the exported pack and the PyTorch model it came from, fp32, within 1e-3 relative."""
    import torch
    from transformers import AutoModelForCausalLM

    from zeta2_daemon.runtime import Runtime

    model = AutoModelForCausalLM.from_pretrained(str(smollm2_pack.parent / "hf"), dtype=torch.float32).eval()
    ids = [int(x) for x in np.random.default_rng(5).integers(0, 49152, 48)] + [49152, 49184, 49185]
    with torch.no_grad():
        expected = model(torch.tensor([ids])).logits[0].numpy()
    runtime = Runtime(smollm2_pack / "model.onnx", threads=2)
    got = runtime.forward(ids, runtime.empty_cache()).logits
    scale = np.abs(expected).max()
    assert np.abs(got - expected).max() <= 1e-3 * scale
    assert (got.argmax(-1) == expected.argmax(-1)).mean() > 0.97


def test_bootstrap_default_output_is_the_daemon_pack_dir(monkeypatch, tmp_path):
    from zeta2_daemon.pack import default_pack_dir
    from zeta2_trainer.cli import make_parser

    monkeypatch.setenv("ZETA2_PACK_DIR", str(tmp_path / "packs"))
    args = make_parser().parse_args(["bootstrap"])
    assert args.output is None and default_pack_dir() == tmp_path / "packs"
