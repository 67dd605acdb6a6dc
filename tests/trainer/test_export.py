"""`zeta2-trainer export`: a Hugging Face causal LM folder to a pack (fp32 parity with PyTorch, fp16, int4)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zeta2_trainer.cli import main as cli_main


@pytest.fixture(scope="module")
def hf_tiny(tmp_path_factory, smollm2_tokenizer_json):
    """A random 2-layer Llama with the SmolLM2 tokenizer and the format tokens."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from zeta2_capture.tokenmap import load_tokenizer

    tokenizer = load_tokenizer(smollm2_tokenizer_json, "smollm2")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=tokenizer.get_vocab_size(with_added_tokens=True), hidden_size=64, intermediate_size=128,
        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config).eval()
    out = tmp_path_factory.mktemp("hf")
    model.save_pretrained(out)
    tokenizer.save(str(out / "tokenizer.json"))
    return out, model


def test_help(capsys):
    for command in ("export", "bootstrap"):
        with pytest.raises(SystemExit) as exit_:
            cli_main([command, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert f"usage: zeta2-trainer {command}" in out and "--quantize" in out


def test_export_fp32_matches_pytorch(hf_tiny, tmp_path, capsys):
    import torch

    from zeta2_daemon.pack import load_pack
    from zeta2_daemon.runtime import Runtime

    hf, model = hf_tiny
    assert cli_main(["export", str(hf), "-o", str(tmp_path / "pack"), "--name", "tiny-random"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote model pack {tmp_path / 'pack'}"
    pack = load_pack(tmp_path / "pack", verify_checksums=True)
    assert pack.manifest["precision"] == "fp32" and pack.manifest["quantization"] is None
    assert pack.name == "tiny-random" and pack.trained
    runtime = Runtime(pack.model_path, threads=1)
    ids = [int(x) for x in np.random.default_rng(3).integers(0, 49000, 64)]
    with torch.no_grad():
        expected = model(torch.tensor([ids])).logits[0].numpy()
    got = runtime.forward(ids, runtime.empty_cache()).logits
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())


@pytest.mark.parametrize("quantize", ["fp16", "int4"])
def test_export_quantized_runs_and_stays_close(hf_tiny, tmp_path, quantize):
    from zeta2_daemon.pack import load_pack
    from zeta2_daemon.runtime import Runtime
    from zeta2_trainer.export import export_pack

    hf, _ = hf_tiny
    fp32 = Runtime(export_pack(hf, tmp_path / "fp32") / "model.onnx", threads=1)
    pack = load_pack(export_pack(hf, tmp_path / quantize, quantize=quantize))
    assert pack.manifest["precision"] == quantize
    assert pack.manifest["model"]["kv_dtype"] == ("float16" if quantize == "fp16" else "float32")
    runtime = Runtime(pack.model_path, threads=1)
    ids = [int(x) for x in np.random.default_rng(4).integers(0, 49000, 32)]
    a = fp32.forward(ids, fp32.empty_cache()).logits
    b = runtime.forward(ids, runtime.empty_cache()).logits
    assert b.dtype == np.float32 and b.shape == a.shape
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.95
    if quantize == "int4":
        ops = {n.op_type for n in __import__("onnx").load(str(pack.model_path)).graph.node}
        assert "MatMulNBits" in ops


def test_export_errors(hf_tiny, tmp_path, capsys):
    hf, _ = hf_tiny
    assert cli_main(["export", str(tmp_path), "-o", str(tmp_path / "p")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"zeta2-trainer export: error: {tmp_path}: no config.json; HF_DIR must be a Hugging Face model folder"
    )
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    assert cli_main(["export", str(hf), "-o", str(busy)]) == 2
    assert "is not empty and is not a model pack; use --force to replace it" in capsys.readouterr().err
    assert (busy / "keep.txt").read_text() == "mine"
    bad = tmp_path / "bad-eval.json"
    bad.write_text("[1]")
    assert cli_main(["export", str(hf), "-o", str(tmp_path / "p2"), "--eval", str(bad)]) == 2
    assert "the eval summary must be a JSON object" in capsys.readouterr().err


def test_export_records_the_eval_summary(hf_tiny, tmp_path):
    hf, _ = hf_tiny
    summary = tmp_path / "eval.json"
    summary.write_text(json.dumps({"delta_chrf": 41.5, "examples": 400}))
    assert cli_main(["export", str(hf), "-o", str(tmp_path / "p"), "--eval", str(summary), "--untrained", "--note", "n"]) == 0
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert manifest["eval"] == {"delta_chrf": 41.5, "examples": 400}
    assert manifest["trained"] is False and manifest["note"] == "n"
