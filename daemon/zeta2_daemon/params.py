"""Reading request params that may arrive in several shapes.

pygls hands params of non-standard methods over as namedtuples with the JSON names, standard ones as
lsprotocol attrs objects with snake_case names, and the daemon's fast path as plain dicts. Handlers
read fields through `field(...)` so they accept all three, and check types themselves: a client's
wrong type must become an InvalidParams error or an ignored notification, never a crash.
"""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams


def field(obj: Any, *keys: str) -> Any:
    """Nested field of a dict / namedtuple / attrs params object; None when any step is missing."""
    for key in keys:
        if obj is None:
            return None
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, tuple) and hasattr(obj, "_fields"):
            obj = getattr(obj, key, None)
        else:
            obj = getattr(obj, snake_case(key), None)
    return obj


def plain_json(obj: Any) -> Any:
    """Namedtuple params (pygls' form for non-standard methods) as plain JSON values."""
    if isinstance(obj, tuple) and hasattr(obj, "_asdict"):
        return {k: plain_json(v) for k, v in obj._asdict().items()}
    if isinstance(obj, (list, tuple)):
        return [plain_json(v) for v in obj]
    if isinstance(obj, dict):
        return {k: plain_json(v) for k, v in obj.items()}
    return obj


def snake_case(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def naming(method: str, exc: JsonRpcInvalidParams) -> JsonRpcInvalidParams:
    """The same InvalidParams error with the method's name in front, so the client sees what it sent wrong."""
    message = str(getattr(exc, "message", "") or exc)
    return JsonRpcInvalidParams(message=message if message.startswith(method) else f"{method}: {message}")


def require_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise JsonRpcInvalidParams(message=f"{what} must be an integer, got {value!r}")
    return value
