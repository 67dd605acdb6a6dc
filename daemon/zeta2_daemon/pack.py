"""Model packs: a folder with manifest.json, model.onnx (decoder with past KV) and tokenizer.json.

Loading checks everything a wrong pack could get wrong before a single token is decoded: the manifest's
keys and types, the prompt format (a pack trained for another format version would rewrite files
wrongly, so it is refused with both versions named), the model file's size (a truncated copy), the
tokenizer's checksum and its format tokens. Every error names the file and what is wrong with it.

See docs/model-pack.md for the manifest, field by field.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
PACK_FORMAT = 1  # version of the manifest layout itself
PRECISIONS = ("fp32", "fp16", "int4")

ENV_PACK_DIR = "ZETA2_PACK_DIR"


class PackError(Exception):
    """A missing, truncated, malformed or mismatched model pack. `str()` names the file and the fault."""


def default_pack_dir() -> Path:
    """Where `zeta2-trainer bootstrap` writes and the daemon looks: $ZETA2_PACK_DIR, else the user data dir."""
    override = os.environ.get(ENV_PACK_DIR)
    if override:
        return Path(override).expanduser()
    try:
        from platformdirs import user_data_dir

        base = Path(user_data_dir("zeta2", appauthor=False))
    except ImportError:  # platformdirs is optional: follow XDG by hand
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "zeta2"
    return base / "packs" / "default"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


# The manifest's schema: dotted key -> allowed types. The golden test in tests/daemon/test_pack.py keeps it honest.
_NUM = (int, float)
MANIFEST_SCHEMA: dict[str, tuple[type, ...]] = {
    "pack_format": (int,),
    "name": (str,),
    "version": (str,),
    "created": (str,),
    "prompt_format": (dict,),
    "prompt_format.name": (str,),
    "prompt_format.version": (int,),
    "token_map": (dict,),
    "token_map.family": (str,),
    "token_map.special_token_ids": (dict,),
    "base_model": (str,),
    "precision": (str,),
    "quantization": (str, type(None)),
    "context_length": (int,),
    "trained": (bool,),
    "note": (str,),
    "model": (dict,),
    "model.file": (str,),
    "model.bytes": (int,),
    "model.sha256": (str,),
    "model.external_data": (list,),
    "model.inputs": (list,),
    "model.outputs": (list,),
    "model.num_layers": (int,),
    "model.num_kv_heads": (int,),
    "model.head_dim": (int,),
    "model.vocab_size": (int,),
    "model.kv_dtype": (str,),
    "model.logits_to_keep": (bool,),
    "tokenizer": (dict,),
    "tokenizer.file": (str,),
    "tokenizer.sha256": (str,),
    "tokenizer.vocab_size": (int,),
    "provenance": (dict,),
    "eval": (dict, type(None)),
}


@dataclass(frozen=True)
class ModelPack:
    """A validated pack. `manifest` is the parsed manifest.json, unchanged."""

    path: Path
    manifest: dict[str, Any]

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def label(self) -> str:
        """`name@version`, what predictions and `zeta2/status` call the model."""
        return f"{self.name}@{self.version}"

    @property
    def model_path(self) -> Path:
        return self.path / self.manifest["model"]["file"]

    @property
    def tokenizer_path(self) -> Path:
        return self.path / self.manifest["tokenizer"]["file"]

    @property
    def family(self) -> str:
        return self.manifest["token_map"]["family"]

    @property
    def trained(self) -> bool:
        return self.manifest["trained"]

    @property
    def note(self) -> str:
        return self.manifest["note"]

    @property
    def context_length(self) -> int:
        return self.manifest["context_length"]

    @property
    def model(self) -> dict[str, Any]:
        return self.manifest["model"]

    @property
    def min_noop_probability(self) -> float:
        """The decoding setting the pack was tuned with (optional `decoding` object; 0 = plain greedy)."""
        return float((self.manifest.get("decoding") or {}).get("min_noop_probability", 0.0))

    def load_tokenizer(self):
        """The pack's tokenizers.Tokenizer (already holding the format tokens)."""
        from tokenizers import Tokenizer

        try:
            return Tokenizer.from_file(str(self.tokenizer_path))
        except Exception as exc:  # tokenizers raises bare Exceptions
            raise PackError(f"{self.tokenizer_path}: not a valid tokenizer.json ({exc})") from None


def _get(manifest: dict[str, Any], dotted: str) -> Any:
    value: Any = manifest
    for part in dotted.split("."):
        value = value[part]
    return value


def _type_names(types: tuple[type, ...]) -> str:
    names = {int: "an integer", str: "a string", dict: "an object", list: "a list", bool: "true or false",
             float: "a number", type(None): "null"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def validate_manifest(manifest: Any, where: str) -> None:
    """Raises PackError naming `where` and the first field that is missing or of the wrong type."""
    if not isinstance(manifest, dict):
        raise PackError(f"{where}: expected a JSON object, got {type(manifest).__name__}")
    for key, types in MANIFEST_SCHEMA.items():
        try:
            value = _get(manifest, key)
        except (KeyError, TypeError):
            raise PackError(f"{where}: field {key!r} is missing") from None
        # bool is an int in Python: an int field must not accept true/false
        if (bool not in types and isinstance(value, bool)) or not isinstance(value, types):
            raise PackError(f"{where}: field {key!r} must be {_type_names(types)}, got {json.dumps(value)[:60]}")
    if manifest["pack_format"] != PACK_FORMAT:
        raise PackError(f"{where}: pack_format {manifest['pack_format']} is not supported (this daemon reads {PACK_FORMAT})")
    if manifest["precision"] not in PRECISIONS:
        raise PackError(f"{where}: field 'precision' must be one of {', '.join(PRECISIONS)}, got {manifest['precision']!r}")
    for key in ("model.inputs", "model.outputs", "model.external_data"):
        if not all(isinstance(x, str) for x in _get(manifest, key)):
            raise PackError(f"{where}: field {key!r} must be a list of strings")
    decoding = manifest.get("decoding")
    if decoding is not None:
        if not isinstance(decoding, dict):
            raise PackError(f"{where}: field 'decoding' must be an object, got {json.dumps(decoding)[:60]}")
        value = decoding.get("min_noop_probability", 0.0)
        if isinstance(value, bool) or not isinstance(value, _NUM) or not 0 <= value <= 1:
            raise PackError(f"{where}: field 'decoding.min_noop_probability' must be a number in [0, 1], got {json.dumps(value)[:60]}")
    for token, token_id in manifest["token_map"]["special_token_ids"].items():
        if isinstance(token_id, bool) or not isinstance(token_id, int):
            raise PackError(f"{where}: token_map.special_token_ids[{token!r}] must be an integer")


def check_prompt_format(manifest: dict[str, Any], where: str) -> None:
    """Refuses a pack made for another prompt format, naming both versions."""
    from zeta2_capture.prompt import FORMAT_NAME, FORMAT_VERSION

    fmt = manifest["prompt_format"]
    if (fmt["name"], fmt["version"]) != (FORMAT_NAME, FORMAT_VERSION):
        raise PackError(
            f"{where}: the pack was made for prompt format {fmt['name']} v{fmt['version']}, but this zeta2 "
            f"speaks {FORMAT_NAME} v{FORMAT_VERSION}; rebuild or re-export the pack for "
            f"{FORMAT_NAME} v{FORMAT_VERSION} (serving it would garble suggestions)"
        )


def load_pack(pack_dir: str | Path, *, verify_checksums: bool = False) -> ModelPack:
    """Validates the pack folder and returns it. `verify_checksums` also hashes model.onnx (slow for big models)."""
    path = Path(pack_dir).expanduser()
    if not path.exists():
        raise PackError(f"{path}: model pack folder does not exist (build one with `zeta2-trainer bootstrap`)")
    if not path.is_dir():
        raise PackError(f"{path}: a model pack is a folder, this is a file")
    manifest_path = path / MANIFEST
    if not manifest_path.exists():
        raise PackError(f"{manifest_path}: missing; {path} is not a model pack")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PackError(f"{manifest_path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError as exc:
        raise PackError(f"{manifest_path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    validate_manifest(manifest, str(manifest_path))
    check_prompt_format(manifest, str(manifest_path))
    pack = ModelPack(path, manifest)
    _check_model_file(pack, verify_checksums)
    _check_tokenizer(pack)
    return pack


def _check_model_file(pack: ModelPack, verify_checksums: bool) -> None:
    model = pack.model
    model_path = pack.model_path
    if not model_path.exists():
        raise PackError(f"{model_path}: missing (manifest.json names it as the model)")
    size = model_path.stat().st_size
    if size != model["bytes"]:
        state = "truncated" if size < model["bytes"] else "larger than recorded"
        raise PackError(f"{model_path}: {state}: {size} bytes on disk, manifest.json says {model['bytes']}")
    for name in model["external_data"]:
        if not (pack.path / name).exists():
            raise PackError(f"{pack.path / name}: missing (external weights of {model['file']})")
    if verify_checksums and sha256_file(model_path) != model["sha256"]:
        raise PackError(f"{model_path}: sha256 differs from manifest.json (corrupt or replaced)")


def _check_tokenizer(pack: ModelPack) -> None:
    from zeta2_capture.tokenmap import UnknownFamily, token_map_for

    tokenizer_path = pack.tokenizer_path
    if not tokenizer_path.exists():
        raise PackError(f"{tokenizer_path}: missing (manifest.json names it as the tokenizer)")
    if sha256_file(tokenizer_path) != pack.manifest["tokenizer"]["sha256"]:
        raise PackError(f"{tokenizer_path}: sha256 differs from manifest.json (truncated, edited or from another pack)")
    try:
        token_map = token_map_for(pack.family)
    except UnknownFamily as exc:
        raise PackError(f"{pack.path / MANIFEST}: token_map.family: {exc}") from None
    tokenizer = pack.load_tokenizer()
    recorded = pack.manifest["token_map"]["special_token_ids"]
    for token in token_map.special_tokens:
        token_id = tokenizer.token_to_id(token)
        if token_id is None:
            raise PackError(f"{tokenizer_path}: lacks the format token {token} of family {pack.family!r}")
        if recorded.get(token) != token_id:
            raise PackError(
                f"{tokenizer_path}: format token {token} has id {token_id}, manifest.json records {recorded.get(token)}"
            )
        if token_id >= pack.model["vocab_size"]:
            raise PackError(
                f"{tokenizer_path}: format token {token} has id {token_id}, past the model's vocabulary "
                f"({pack.model['vocab_size']} rows): tokenizer and model do not belong together"
            )


def write_manifest(pack_dir: Path, manifest: dict[str, Any]) -> Path:
    """Validates and writes manifest.json (keys in schema order, readable indentation)."""
    path = Path(pack_dir) / MANIFEST
    validate_manifest(manifest, str(path))
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
