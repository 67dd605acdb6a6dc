"""Where capture keeps its files, and the user's capture settings.

Everything lives in one data directory: `$ZETA2_DATA_DIR` when set (tests, CI, several profiles),
otherwise platformdirs' user data dir for "zeta2". The settings are a small JSON file there,
`config.json`, read fresh by every process (CLI, daemon) so `zeta2-capture enable` takes effect
for the next request without a restart:

    {"capture": false, "usage_log": true, "ship_to": null, "max_store_bytes": 268435456}

Capture is OFF until the user turns it on. The daemon's per-session setting wins for its session
(`CapturePolicy(session_enabled=...)`), this file is the default.

API: `data_dir()`, `config_path()`, `load_config() -> CaptureConfig`, `save_config(cfg)`,
`set_config(**changes) -> CaptureConfig`, `ConfigError`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

ENV_DATA_DIR = "ZETA2_DATA_DIR"
DEFAULT_MAX_STORE_BYTES = 256 * 1024 * 1024


class ConfigError(RuntimeError):
    """A config file that cannot be read; the message names the file and how to fix it."""


@dataclass(frozen=True)
class CaptureConfig:
    capture: bool = False  # opt-in: nothing with code in it is stored until this is True
    usage_log: bool = True  # metadata-only usage log; can be switched off on its own
    ship_to: str | None = None  # a directory or an http(s) URL; nothing ships when None
    max_store_bytes: int = DEFAULT_MAX_STORE_BYTES


def data_dir() -> Path:
    """The data directory (created on first use by whoever writes to it)."""
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("zeta2", appauthor=False))


def config_path() -> Path:
    return data_dir() / "config.json"


def load_config(path: Path | None = None) -> CaptureConfig:
    """The saved settings; defaults when there is no file yet."""
    path = path or config_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return CaptureConfig()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the capture config: {exc.strerror}") from None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}:{exc.lineno}: invalid JSON ({exc.msg}); fix or delete the file to reset capture settings"
        ) from None
    if not isinstance(obj, dict):
        raise ConfigError(f"{path}: expected a JSON object; fix or delete the file to reset capture settings")
    known = {f.name: f for f in fields(CaptureConfig)}
    values = {}
    for key, value in obj.items():
        if key not in known:
            continue  # written by a newer version: keep reading what we understand
        expected = {"capture": bool, "usage_log": bool, "max_store_bytes": int}.get(key)
        if expected and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
            raise ConfigError(f"{path}: field {key!r} must be {expected.__name__}, got {json.dumps(value)}")
        if key == "ship_to" and value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: field 'ship_to' must be a string or null")
        values[key] = value
    return CaptureConfig(**values)


def save_config(config: CaptureConfig, path: Path | None = None) -> Path:
    """Writes atomically (temp file + rename) so a reader never sees half a file."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(config), out, indent=2)
        out.write("\n")
    os.replace(tmp, path)
    return path


def set_config(**changes: object) -> CaptureConfig:
    config = replace(load_config(), **changes)
    save_config(config)
    return config
