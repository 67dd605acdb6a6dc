"""Hypothesis fuzz of the daemon's handlers over the real stdio transport: the process never dies.

One daemon subprocess takes every generated message (plausible ones with wrong types, negative
and huge positions, unopened documents, arbitrary JSON, broken framing) and after each batch must
still answer `zeta2/ping`; every request gets a response (a result or an error), never silence.
Sized for the test budget: 300 batches of up to 25 messages (about 4,000 messages, ~30 s).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from raw_daemon import RawDaemon

pytestmark = pytest.mark.e2e

URIS = ["file:///ws/a.py", "file:///ws/b.ts", "file:///ws/c.rs", "untitled:x", "file:///ws/%F0%9F%98%80.go"]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    # String ids: generated raw bodies may carry integer ids of their own, whose answers must not pass for ours.
    d = RawDaemon(tmp_path_factory.mktemp("fuzz"), id_prefix="fuzz-")
    init = d.request("initialize", {"processId": None, "rootUri": "file:///ws", "capabilities": {}, "initializationOptions": {"debounceMs": 0}})
    assert "result" in init
    d.send("initialized", {}, request=False)
    yield d
    d.proc.kill()
    d.proc.wait()
    d.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
ints = st.one_of(st.integers(0, 30), st.integers(-5, -1), st.integers(2**31, 2**40), st.just("3"), st.none())
position = st.fixed_dictionaries({"line": ints, "character": ints})
rng = st.fixed_dictionaries({"start": position, "end": position})
uri = st.sampled_from(URIS) | st.text(max_size=10) | st.integers()
text = st.text(max_size=200) | st.sampled_from(["", "\x00\x01", "def f(:\n", "😀\r\n" * 20])
doc_id = st.fixed_dictionaries({"uri": uri, "version": ints})

PLAUSIBLE = {
    "textDocument/didOpen": st.fixed_dictionaries(
        {"textDocument": st.fixed_dictionaries({"uri": uri, "languageId": st.sampled_from(["python", "rust", "x"]), "version": ints, "text": text})}
    ),
    "textDocument/didChange": st.fixed_dictionaries(
        {
            "textDocument": doc_id,
            "contentChanges": st.lists(st.fixed_dictionaries({"range": rng, "text": text}) | st.fixed_dictionaries({"text": text}), max_size=3),
        }
    ),
    "textDocument/didClose": st.fixed_dictionaries({"textDocument": doc_id}),
    "textDocument/copilotInlineEdit": st.fixed_dictionaries({"textDocument": doc_id, "position": position}),
    "textDocument/inlineCompletion": st.fixed_dictionaries(
        {"textDocument": doc_id, "position": position, "context": st.fixed_dictionaries({"triggerKind": st.sampled_from([1, 2, 7])})}
    ),
    "textDocument/didShowInlineEdit": st.fixed_dictionaries({"id": st.text(max_size=8) | st.integers()}),
    "workspace/executeCommand": st.fixed_dictionaries({"command": st.sampled_from(["zeta2.accept", "nope"]), "arguments": st.lists(json_values, max_size=2)}),
    "zeta2/didPartiallyAccept": st.fixed_dictionaries({"id": json_values, "acceptedLength": ints}),
    "zeta2/didReject": st.fixed_dictionaries({"id": json_values, "reason": json_values}),
    "zeta2/cursor": st.fixed_dictionaries({"textDocument": doc_id, "position": position}),
    "textDocument/didFocus": st.fixed_dictionaries({"textDocument": doc_id}),
    "zeta2/diagnostics": st.fixed_dictionaries(
        {"textDocument": doc_id, "diagnostics": st.lists(st.fixed_dictionaries({"range": rng, "message": json_values, "severity": ints}), max_size=3)}
    ),
    "workspace/didChangeConfiguration": st.fixed_dictionaries({"settings": json_values}),
    "$/cancelRequest": st.fixed_dictionaries({"id": st.text(max_size=6) | st.integers()}),
    "zeta2/unknownThing": json_values,
}

message = st.one_of(
    st.sampled_from(sorted(PLAUSIBLE)).flatmap(lambda m: st.tuples(st.just(m), PLAUSIBLE[m] | json_values, st.booleans())),
    st.tuples(st.just("<raw>"), st.binary(max_size=60), st.just(False)),
)


# No shrinking: each example costs a round trip to the daemon; the failing batch is printed as is.
@settings(max_examples=300, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate), suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batch=st.lists(message, min_size=1, max_size=25))
def test_handlers_survive_generated_messages(daemon, batch):
    request_ids = []
    for method, params, is_request in batch:
        if method == "<raw>":
            # Framed garbage: bodies that are not JSON, or not JSON-RPC. Never a bad Content-Length,
            # which would desynchronise the stream for good (no server can recover from that).
            daemon.write(daemon.frame(params.replace(b"\r\n\r\n", b"") or b"{}"))
            continue
        msg_id = daemon.send(method, params, request=is_request)
        if msg_id is not None:
            request_ids.append(msg_id)
    ping = daemon.send("zeta2/ping", {})
    assert daemon.response(ping, timeout=20)["result"]["ok"] is True
    for msg_id in request_ids:
        response = daemon.response(msg_id, timeout=20)
        assert "result" in response or "error" in response
    assert daemon.proc.poll() is None
