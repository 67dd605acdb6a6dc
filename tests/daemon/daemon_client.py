"""Starting the real `zeta2-daemon` subprocess with pytest-lsp and talking to it.

Shared by tests/daemon and tests/e2e. Waits are on conditions (a notification arrived, a status
field changed) with timeouts, never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

TIMEOUT = 60.0


class Daemon:
    """A started daemon: the pytest-lsp client plus what the server pushed to it."""

    def __init__(self, client: LanguageClient):
        self.client = client
        self.statuses: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self.init_result: types.InitializeResult | None = None

        @client.feature("zeta2/status")
        def on_status(params: Any) -> None:
            self.statuses.append(_plain(params))
            self._changed.set()


    @property
    def messages(self) -> list[types.ShowMessageParams]:
        return self.client.messages

    @property
    def status(self) -> dict[str, Any]:
        return self.statuses[-1] if self.statuses else {}

    async def wait_for(self, condition: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> Any:
        """Waits until `condition()` is truthy, re-checking whenever the server pushes something."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = condition()
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; last status {self.status}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.1))
            except TimeoutError:
                pass

    # ---------------------------------------------------------------- documents

    def open(self, uri: str, text: str, language: str = "python", version: int = 1) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, version, text))
        )

    def change(self, uri: str, version: int, changes: list[dict[str, Any]]) -> None:
        events = []
        for c in changes:
            if "range" in c:
                r = c["range"]
                rng = types.Range(
                    types.Position(r["start"]["line"], r["start"]["character"]),
                    types.Position(r["end"]["line"], r["end"]["character"]),
                )
                events.append(types.TextDocumentContentChangePartial(range=rng, text=c["text"]))
            else:
                events.append(types.TextDocumentContentChangeWholeDocument(text=c["text"]))
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(types.VersionedTextDocumentIdentifier(version=version, uri=uri), events)
        )

    async def inline_edit(self, uri: str, version: int | None, line: int, character: int) -> dict[str, Any]:
        params = {"textDocument": {"uri": uri, "version": version}, "position": {"line": line, "character": character}}
        result = await self.client.protocol.send_request_async("textDocument/copilotInlineEdit", params)
        return _plain(result)

    async def request(self, method: str, params: Any) -> Any:
        return _plain(await self.client.protocol.send_request_async(method, params))

    def notify(self, method: str, params: Any) -> None:
        self.client.protocol.notify(method, params)

    async def accept(self, suggestion_id: str) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="zeta2.accept", arguments=[suggestion_id])
        )

    async def wait_ping(self, predicate: Callable[[dict[str, Any]], Any], timeout: float = TIMEOUT, what: str = "ping") -> dict:
        """Pings until `predicate(pong)` holds (the daemon's own work, e.g. a prefetch, is not pushed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            pong = await self.request("zeta2/ping", {})
            if predicate(pong):
                return pong
            if loop.time() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; last ping {pong}")
            await asyncio.sleep(0.02)  # between pings only: the condition is re-checked, not assumed

    async def roundtrip(self) -> None:
        """Waits until the server has handled everything sent before (requests are handled in order)."""
        await self.request("zeta2/ping", {})


def _plain(obj: Any) -> Any:
    """pygls gives custom results as namedtuples/attrs objects; tests compare plain JSON."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_asdict"):
        return [_plain(v) for v in obj]
    if hasattr(obj, "_asdict"):
        return {k: _plain(v) for k, v in obj._asdict().items()}
    if hasattr(obj, "__attrs_attrs__"):
        from pygls.protocol import default_converter

        return json.loads(json.dumps(default_converter().unstructure(obj)))
    return obj


def daemon_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["ZETA2_DATA_DIR"] = str(tmp_path / "data")
    env.setdefault("ZETA2_PACK_DIR", str(tmp_path / "no-default-pack"))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


async def start_daemon(
    tmp_path: Path,
    *args: str,
    init_options: Any = None,
    encodings: list[str] | None = None,
    root: Path | None = None,
    env: dict[str, str] | None = None,
) -> Daemon:
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "zeta2_daemon.cli", *args],
        server_env=env or daemon_env(tmp_path),
    )
    client = await config.start()
    daemon = Daemon(client)
    general = types.GeneralClientCapabilities(position_encodings=encodings) if encodings else None
    root = root or tmp_path
    daemon.init_result = await client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(general=general),
            initialization_options=init_options,
            root_uri=root.as_uri(),
        )
    )
    return daemon


async def stop_daemon(daemon: Daemon) -> None:
    await daemon.client.shutdown_session()
    await daemon.client.stop()
