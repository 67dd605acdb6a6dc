"""Model packs: the manifest's contract (golden keys and types) and a clear error for every broken pack."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from zeta2_daemon.pack import ENV_PACK_DIR, PackError, default_pack_dir, load_pack

# Golden: every manifest key and the JSON type of its value. Changing the manifest means changing this
# table, docs/model-pack.md and (for a breaking change) PACK_FORMAT.
GOLDEN_MANIFEST = {
    "pack_format": "int",
    "name": "str",
    "version": "str",
    "created": "str",
    "prompt_format": {"name": "str", "version": "int"},
    "token_map": {"family": "str", "special_token_ids": "dict"},
    "base_model": "str",
    "precision": "str",
    "quantization": "str|None",
    "context_length": "int",
    "trained": "bool",
    "note": "str",
    "model": {
        "file": "str",
        "bytes": "int",
        "sha256": "str",
        "external_data": "list",
        "inputs": "list",
        "outputs": "list",
        "num_layers": "int",
        "num_kv_heads": "int",
        "head_dim": "int",
        "vocab_size": "int",
        "kv_dtype": "str",
        "logits_to_keep": "bool",
    },
    "tokenizer": {"file": "str", "sha256": "str", "vocab_size": "int"},
    "provenance": "dict",
    "eval": "dict|None",
}


def _check_shape(value, golden, where="manifest"):
    if isinstance(golden, dict):
        assert isinstance(value, dict), where
        assert set(value) == set(golden), f"{where}: keys {sorted(set(value) ^ set(golden))} differ from the golden"
        for key, sub in golden.items():
            _check_shape(value[key], sub, f"{where}.{key}")
    else:
        name = "None" if value is None else type(value).__name__
        assert name in golden.split("|"), f"{where}: {name}, golden says {golden}"


@pytest.fixture()
def pack_copy(tiny_pack, tmp_path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(tiny_pack, target)
    return target


def _edit_manifest(pack: Path, change) -> None:
    path = pack / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_manifest_matches_the_golden_keys_and_types(tiny_pack):
    manifest = json.loads((tiny_pack / "manifest.json").read_text())
    _check_shape(manifest, GOLDEN_MANIFEST)
    assert manifest["prompt_format"] == {"name": "zeta2-markers", "version": manifest["prompt_format"]["version"]}
    assert manifest["precision"] == "fp32" and manifest["trained"] is True
    assert manifest["model"]["logits_to_keep"] is True
    assert "next_token_ids" in manifest["model"]["outputs"]


def test_the_tiny_pack_loads(tiny_pack):
    pack = load_pack(tiny_pack, verify_checksums=True)
    assert pack.label == "zeta2-tiny-test@0.1.0"
    assert pack.family == "smollm2" and pack.trained


def test_missing_folder(tmp_path):
    with pytest.raises(PackError, match=r"nowhere: model pack folder does not exist \(build one with `zeta2-trainer bootstrap`\)"):
        load_pack(tmp_path / "nowhere")


def test_a_file_is_not_a_pack(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(PackError, match="f: a model pack is a folder, this is a file"):
        load_pack(tmp_path / "f")


def test_missing_manifest(tmp_path):
    with pytest.raises(PackError, match=r"manifest.json: missing; .* is not a model pack"):
        load_pack(tmp_path)


def test_manifest_not_json(pack_copy):
    (pack_copy / "manifest.json").write_text('{"name": ')
    with pytest.raises(PackError, match=r"manifest.json: not valid JSON \(line 1, column 10: Expecting value\)"):
        load_pack(pack_copy)


def test_manifest_missing_field(pack_copy):
    _edit_manifest(pack_copy, lambda m: m["model"].pop("num_layers"))
    with pytest.raises(PackError, match=r"manifest.json: field 'model.num_layers' is missing"):
        load_pack(pack_copy)


def test_manifest_wrong_type(pack_copy):
    _edit_manifest(pack_copy, lambda m: m.__setitem__("context_length", "2048"))
    with pytest.raises(PackError, match=r"manifest.json: field 'context_length' must be an integer, got \"2048\""):
        load_pack(pack_copy)
    _edit_manifest(pack_copy, lambda m: m.__setitem__("context_length", True))
    with pytest.raises(PackError, match=r"field 'context_length' must be an integer, got true"):
        load_pack(pack_copy)


def test_prompt_format_mismatch_names_both_versions(pack_copy):
    from zeta2_capture.prompt import FORMAT_VERSION

    _edit_manifest(pack_copy, lambda m: m["prompt_format"].__setitem__("version", FORMAT_VERSION + 1))
    with pytest.raises(PackError) as err:
        load_pack(pack_copy)
    message = str(err.value)
    assert f"made for prompt format zeta2-markers v{FORMAT_VERSION + 1}" in message
    assert f"this zeta2 speaks zeta2-markers v{FORMAT_VERSION}" in message
    assert str(pack_copy / "manifest.json") in message


def test_truncated_model(pack_copy):
    model = pack_copy / "model.onnx"
    size = model.stat().st_size
    with open(model, "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(PackError, match=rf"model.onnx: truncated: {size // 2} bytes on disk, manifest.json says {size}"):
        load_pack(pack_copy)


def test_missing_model(pack_copy):
    (pack_copy / "model.onnx").unlink()
    with pytest.raises(PackError, match=r"model.onnx: missing \(manifest.json names it as the model\)"):
        load_pack(pack_copy)


def test_corrupt_model_same_size_is_caught_by_checksum_and_by_onnxruntime(pack_copy):
    from zeta2_daemon.runtime import ModelLoadError, Runtime

    model = pack_copy / "model.onnx"
    data = bytearray(model.read_bytes())
    data[:64] = b"\xff" * 64
    model.write_bytes(bytes(data))
    load_pack(pack_copy)  # size checks pass without hashing
    with pytest.raises(PackError, match=r"model.onnx: sha256 differs from manifest.json"):
        load_pack(pack_copy, verify_checksums=True)
    with pytest.raises(ModelLoadError, match=r"model.onnx: onnxruntime cannot load it"):
        Runtime(model)


def test_tokenizer_from_another_pack(pack_copy):
    tokenizer = pack_copy / "tokenizer.json"
    tokenizer.write_text(tokenizer.read_text().replace("<|edit_end|>", "<|edit_stop|>"))
    with pytest.raises(PackError, match=r"tokenizer.json: sha256 differs from manifest.json"):
        load_pack(pack_copy)


def test_tokenizer_lacking_a_format_token(pack_copy):
    from zeta2_daemon.pack import sha256_file

    tokenizer = pack_copy / "tokenizer.json"
    tokenizer.write_text(tokenizer.read_text().replace("<|edit_end|>", "<|edit_stop|>"))
    _edit_manifest(pack_copy, lambda m: m["tokenizer"].__setitem__("sha256", sha256_file(tokenizer)))
    with pytest.raises(PackError, match=r"tokenizer.json: lacks the format token <\|edit_end\|> of family 'smollm2'"):
        load_pack(pack_copy)


def test_model_and_manifest_disagree(pack_copy):
    from zeta2_daemon.predictor import Predictor

    _edit_manifest(pack_copy, lambda m: m["model"].__setitem__("num_layers", 7))
    with pytest.raises(PackError, match=r"model.onnx: has 2 layers, manifest.json says 7"):
        Predictor(pack_copy, threads=1)


def test_unknown_family(pack_copy):
    _edit_manifest(pack_copy, lambda m: m["token_map"].__setitem__("family", "gpt9"))
    with pytest.raises(PackError, match=r"token_map.family: unknown token-map family 'gpt9'"):
        load_pack(pack_copy)


def test_default_pack_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_PACK_DIR, str(tmp_path / "packs"))
    assert default_pack_dir() == tmp_path / "packs"
    monkeypatch.delenv(ENV_PACK_DIR)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    path = default_pack_dir()
    assert path.parts[-3:] == ("zeta2", "packs", "default")


def test_decoding_settings_are_validated_and_read(tiny_pack, tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(tiny_pack, pack)
    assert load_pack(pack).min_noop_probability == 0.0  # absent: plain greedy
    manifest = json.loads((pack / "manifest.json").read_text())
    manifest["decoding"] = {"min_noop_probability": 0.6}
    (pack / "manifest.json").write_text(json.dumps(manifest))
    assert load_pack(pack).min_noop_probability == 0.6
    manifest["decoding"] = {"min_noop_probability": 1.5}
    (pack / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PackError, match=r"manifest.json: field 'decoding.min_noop_probability' must be a number in \[0, 1\], got 1.5"):
        load_pack(pack)
