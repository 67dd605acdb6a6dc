"""The daemon's typed settings: `initializationOptions` and `workspace/didChangeConfiguration`.

Editors send settings as JSON, either flat (`{"debounceMs": 100}`) or under a `zeta2` key. Every
setting has a default; a value of the wrong type or out of range falls back to the default and
yields a `SettingProblem` that the server shows to the user (which setting, what was wrong, what is
used instead). Unknown keys are reported too, so a typo does not silently do nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

AGGRESSIVENESS = ("low", "medium", "high")
DEVICES = ("auto", "cpu", "cuda")

# Largest edit (characters inserted + deleted) shown at each aggressiveness; "high" has no cap.
MAX_EDIT_CHARS = {"low": 200, "medium": 2000, "high": None}


@dataclass(frozen=True, slots=True)
class Variant:
    """One A/B arm: a model pack and its share of the traffic."""

    pack: str
    share: float
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or self.pack


@dataclass(frozen=True, slots=True)
class Settings:
    model: str | None = None  # pack dir; None = the CLI's --model or the bootstrapped default
    device: str = "auto"
    debounce_ms: int = 300
    max_pending: int = 2
    deadline_ms: int = 5000
    aggressiveness: str = "medium"
    inline_completion: bool = True
    capture_enabled: bool | None = None  # None: the user's `zeta2-capture enable|disable` decides
    capture_ship_to: str | None = None
    usage_log: bool = True
    ab_variants: tuple[Variant, ...] = ()
    installation_id: str | None = None
    max_document_bytes: int = 1_000_000
    max_output_tokens: int | None = None  # None: the pack's prompt config decides


@dataclass(frozen=True, slots=True)
class SettingProblem:
    key: str
    value: Any
    reason: str
    default: Any

    def message(self) -> str:
        return f"zeta2: setting {self.key!r} = {self.value!r} is invalid ({self.reason}); using the default {self.default!r}"


# JSON key -> (attribute, validator returning the typed value or raising ValueError with the reason)
def _int_range(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be an integer from {low} to {high}")
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}")
        return value

    return check


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string or null")
    return value


def _variants(value: Any) -> tuple[Variant, ...]:
    if not isinstance(value, list):
        raise ValueError('must be a list of {"pack": PATH, "share": NUMBER}')
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("pack"), str):
            raise ValueError(f"item {i} must be an object with a string 'pack'")
        share = item.get("share")
        if isinstance(share, bool) or not isinstance(share, (int, float)) or share <= 0:
            raise ValueError(f"item {i} needs a positive number 'share'")
        name = item.get("name", "")
        if not isinstance(name, str):
            raise ValueError(f"item {i}'s 'name' must be a string")
        out.append(Variant(item["pack"], float(share), name))
    return tuple(out)


SETTINGS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "model": ("model", _optional_str),
    "device": ("device", _choice(DEVICES)),
    "debounceMs": ("debounce_ms", _int_range(0, 60_000)),
    "maxPending": ("max_pending", _int_range(1, 8)),
    "deadlineMs": ("deadline_ms", _int_range(10, 120_000)),
    "aggressiveness": ("aggressiveness", _choice(AGGRESSIVENESS)),
    "inlineCompletion": ("inline_completion", _bool),
    "usageLog": ("usage_log", _bool),
    "abVariants": ("ab_variants", _variants),
    "installationId": ("installation_id", _optional_str),
    "maxDocumentBytes": ("max_document_bytes", _int_range(1000, 100_000_000)),
    "maxOutputTokens": ("max_output_tokens", _int_range(1, 4096)),
}
# capture settings live in a nested object: {"capture": {"enabled": true, "shipTo": "..."}}
CAPTURE_SETTINGS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "enabled": ("capture_enabled", _bool),
    "shipTo": ("capture_ship_to", _optional_str),
}

DEFAULTS = Settings()


def parse_settings(raw: Any, base: Settings = DEFAULTS) -> tuple[Settings, list[SettingProblem]]:
    """Typed settings from an editor's JSON; keys absent keep `base`'s value, invalid ones the default."""
    problems: list[SettingProblem] = []
    if raw is None:
        return base, problems
    if isinstance(raw, dict) and isinstance(raw.get("zeta2"), dict):
        raw = raw["zeta2"]
    if not isinstance(raw, dict):
        problems.append(SettingProblem("<settings>", raw, "must be a JSON object", "{}"))
        return base, problems

    updates: dict[str, Any] = {}

    def take(table: dict[str, tuple[str, Callable[[Any], Any]]], obj: dict, prefix: str) -> None:
        for key, value in obj.items():
            if key not in table:
                if not (prefix == "" and key == "capture"):
                    problems.append(SettingProblem(prefix + key, value, "unknown setting", None))
                continue
            attr, check = table[key]
            try:
                updates[attr] = check(value)
            except ValueError as exc:
                default = getattr(DEFAULTS, attr)
                problems.append(SettingProblem(prefix + key, value, str(exc), default))
                updates[attr] = default

    take(SETTINGS, raw, "")
    capture = raw.get("capture")
    if capture is not None:
        if isinstance(capture, dict):
            take(CAPTURE_SETTINGS, capture, "capture.")
        else:
            problems.append(SettingProblem("capture", capture, 'must be an object like {"enabled": true}', {}))
    return replace(base, **updates), problems


def settings_names() -> list[str]:
    return [f.name for f in fields(Settings)]
