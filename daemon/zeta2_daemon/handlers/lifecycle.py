"""initialize / initialized / shutdown, configuration changes and `zeta2/ping`."""

from __future__ import annotations

import asyncio
import hashlib
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from lsprotocol import types

from ..methods import PING
from ..params import field
from ..testclock import ManualClock
from . import suggestions

if TYPE_CHECKING:
    from ..server import Zeta2Server

ENCODING_NAMES = {"utf-8": "utf-8", "utf-16": "utf-16", "utf-32": "utf-32"}


def register(ls: Zeta2Server) -> None:
    @ls.feature(types.INITIALIZE)
    def initialize(ls: Zeta2Server, params: types.InitializeParams) -> None:
        encoding = ls.workspace.position_encoding
        ls.docs.encoding = ENCODING_NAMES.get(str(getattr(encoding, "value", encoding)), "utf-16")
        root = params.root_uri or (params.workspace_folders[0].uri if params.workspace_folders else None)
        if root:
            ls.root = Path(unquote(urlparse(root).path))
        elif params.root_path:
            ls.root = Path(params.root_path)
        ls.capture.set_root(ls.root)
        ls.apply_settings(params.initialization_options, initial=True)
        if ls.settings.inline_completion:  # advertised only when on: the capability comes from the feature
            suggestions.register_inline_completion(ls)

    @ls.feature(types.INITIALIZED)
    def initialized(ls: Zeta2Server, params: types.InitializedParams) -> None:
        ls.status.start()
        loop = asyncio.get_running_loop()
        # Ship results arrive on the ship thread; status notifications are sent from the loop only.
        ls.capture.on_ship_state = lambda state: loop.call_soon_threadsafe(partial(ls.status.update, ship=state))
        if not isinstance(ls.clock, ManualClock):  # with a test clock, tests run the timer
            ls._ticker = asyncio.ensure_future(ls.tick_forever())

    @ls.feature(types.SHUTDOWN)
    def shutdown(ls: Zeta2Server, params: Any) -> None:
        ls.capture.close()
        if ls.models is not None:
            ls.models.shutdown()

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: Zeta2Server, params: types.DidChangeConfigurationParams) -> None:
        ls.apply_settings(params.settings)

    @ls.feature(PING)
    def ping(ls: Zeta2Server, params: Any) -> dict[str, Any]:
        # Answered in order with everything sent before it: clients and tests use it as a barrier.
        times = sorted(ls.change_ms)

        def pct(q: float) -> float | None:
            return round(times[min(len(times) - 1, int(q * len(times)))], 4) if times else None

        ls.capture.flush()  # records of everything handled before the ping are written
        uri = field(params, "uri")
        doc = ls.docs._docs.get(uri) if isinstance(uri, str) else None
        document = None
        if doc is not None:  # lets a client check that incremental sync left both sides with the same text
            document = {"version": doc.version, "chars": len(doc.text),
                        "sha256": hashlib.sha256(doc.text.encode("utf-8", "surrogatepass")).hexdigest()}
        memory = None
        if field(params, "memory") is True:
            import tracemalloc

            if tracemalloc.is_tracing():  # ZETA2_TRACEMALLOC=1: where the daemon's Python memory sits
                top = tracemalloc.take_snapshot().statistics("lineno")[:15]
                memory = [f"{stat.traceback[0].filename}:{stat.traceback[0].lineno} {stat.size} B {stat.count}" for stat in top]
        return {
            "ok": True,
            "memory": memory,
            "document": document,
            "documents": len(ls.docs),
            "pending": len(ls.scheduler.pending),
            "inFlight": len(ls.protocol._request_futures),
            "counters": dict(ls.counters),
            "didChangeMs": {"n": len(times), "p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)},
            "lastTiming": ls.last_timing,
        }
