"""The `zeta2-daemon` command line: --help, --version, exact errors, TCP mode, and demo's missing-pack message."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

DAEMON = [sys.executable, "-m", "zeta2_daemon.cli"]


def run(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*DAEMON, *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.parametrize("args", [["--help"], ["demo", "--help"]])
def test_help(args):
    result = run(*args)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: zeta2-daemon")
    assert ("--ab PACK_DIR=SHARE" in result.stdout) if args == ["--help"] else ("--session FILE" in result.stdout)


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == "zeta2-daemon 0.1.0"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "/no/such/pack"], "zeta2-daemon: error: --model /no/such/pack: no model pack at /no/such/pack: "
         "run `zeta2-trainer bootstrap` to build the default pack (or pass --model PACK_DIR)"),
        (["--ab", "/no/such/pack"], "zeta2-daemon: error: --ab '/no/such/pack': expected PACK_DIR=SHARE, e.g. --ab ~/packs/new=0.5"),
        (["--ab", "/p=half"], "zeta2-daemon: error: --ab '/p=half': share 'half' is not a number"),
    ],
)
def test_exact_errors(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert result.stdout == ""


def test_bad_tcp_address(tmp_path):
    env = dict(os.environ, ZETA2_PACK_DIR=str(tmp_path / "none"), ZETA2_DATA_DIR=str(tmp_path / "data"))
    result = run("--tcp", "localhost", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("zeta2-daemon: error: --tcp 'localhost': expected HOST:PORT, e.g. 127.0.0.1:7777")


def test_demo_without_a_pack_says_how_to_build_one(tmp_path):
    env = dict(os.environ, ZETA2_PACK_DIR=str(tmp_path / "none"), ZETA2_DATA_DIR=str(tmp_path / "data"))
    result = run("demo", env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"zeta2-daemon: error: demo: no model pack at {tmp_path / 'none'}: run `zeta2-trainer bootstrap` "
        "to build the default pack (or pass --model PACK_DIR)"
    )


def _frame(obj: dict) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def _read_message(sock: socket.socket, buffer: bytearray) -> dict:
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(65536)
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    headers = dict(line.split(b":", 1) for line in head.split(b"\r\n"))
    length = int(headers[b"Content-Length"])
    while len(rest) < length:
        rest += sock.recv(65536)
    buffer[:] = rest[length:]
    return json.loads(rest[:length])


@pytest.mark.e2e
def test_tcp_mode_serves_lsp(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, ZETA2_PACK_DIR=str(tmp_path / "none"), ZETA2_DATA_DIR=str(tmp_path / "data"))
    proc = subprocess.Popen([*DAEMON, "--tcp", f"127.0.0.1:{port}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the condition "the port accepts", not for a fixed time
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "the daemon never listened"
                time.sleep(0.05)
        with sock:
            buffer = bytearray()
            sock.sendall(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}, "processId": None}}))
            while True:
                msg = _read_message(sock, buffer)
                if msg.get("id") == 1:
                    break
            assert msg["result"]["serverInfo"]["name"] == "zeta2-daemon"
            sock.sendall(_frame({"jsonrpc": "2.0", "id": 2, "method": "zeta2/ping", "params": {}}))
            while True:
                msg = _read_message(sock, buffer)
                if msg.get("id") == 2:
                    break
            assert msg["result"]["ok"] is True
    finally:
        proc.kill()
        proc.wait()
