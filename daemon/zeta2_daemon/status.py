"""The `zeta2/status` notification: what the daemon is doing, pushed to the editor when it changes.

Fields: model (pack name or null), device, trained (false for the untrained bootstrap pack), busy
(a prediction has been running for over 150 ms), capture (opt-in on/off), variants (A/B arms), lastError (the latest
reason a suggestion could not be made, with the time), lastBadMessage (the latest malformed message or
bad params from the client, with the time), ship (with `capture.shipTo` set: destination, records and
batches shipped this session, lastError, lastShippedAt), and lastOutcome (what the latest request gave:
suggested / suppressed / failed, with the reason; it rides along with the next push rather than
causing one per request — the answer to a request carries its own reason). Requests waiting are in `zeta2/ping`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

STATUS_METHOD = "zeta2/status"


class StatusBoard:
    """Holds the status; `update(...)` sends a notification only when something visible changed."""

    def __init__(self, send: Callable[[dict[str, Any]], None]):
        self._send = send
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {
            "model": None,
            "device": None,
            "trained": None,
            "busy": False,
            "capture": False,
            "usageLog": False,
            "variants": [],
            "lastError": None,
            "lastOutcome": None,
            "lastBadMessage": None,
            "ship": None,
        }
        self._last_sent: dict[str, Any] | None = None
        self.enabled = False  # nothing is sent before `initialized`

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._state)

    def get(self, key: str) -> Any:
        """One field, without copying the state (the request path reads a few per request)."""
        with self._lock:
            return self._state.get(key)

    def update(self, *, push: bool = True, **changes: Any) -> None:
        """Changes fields; `push=False` records them for the next notification without sending one."""
        with self._lock:
            self._state.update(changes)
            if not push or not self.enabled:
                return
            state = dict(self._state)
            if state == self._last_sent:
                return
            self._last_sent = state
        self._send(state)

    def error(self, message: str) -> None:
        self.update(lastError={"message": message, "time": time.time()})

    def clear_error(self) -> None:
        self.update(lastError=None)

    def start(self) -> None:
        """Enables sending and pushes the current state."""
        with self._lock:
            self.enabled = True
            self._last_sent = None
        self.update()
