"""The capture store, the usage log and privacy: what is (and is not) written, and how it survives."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from zeta2_capture.config import CaptureConfig, save_config
from zeta2_capture.export import export_captures, export_usage, parse_time
from zeta2_capture.migrations import CAPTURE_MIGRATIONS
from zeta2_capture.policy import CapturePolicy
from zeta2_capture.redact import find_secrets, redact, redact_example
from zeta2_capture.schema import Event, Example, Related, read_examples
from zeta2_capture.store import Capturer, CaptureStore, StoreError
from zeta2_capture.usage import UsageError, UsageLog

LICENSES = Path(__file__).resolve().parent / "fixtures" / "licenses"

# Planted secrets in their real formats (assembled so no literal secret sits in the source).
SECRETS = {
    "aws-access-key-id": "AKIA" + "IOSFODNN7EXAMPLE",
    "aws-secret-access-key": "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY",
    "github-token": "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "slack-token": "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "stripe-key": "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    "openai-key": "sk-proj-" + "Abc123Def456Ghi789Jkl012Mno345Pqr678",
    "google-api-key": "AIza" + "SyD-1234567890abcdefghijklmnopqrstu",
    "jwt": "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "huggingface-token": "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "url-password": "hunter2" + "Secret!",
    "assigned-secret": "s3cr3t" + "-db-pass",
}
PEM = "-----BEGIN RSA PRIVATE KEY-----\n" + "MIIEpAIBAAKCAQEA7" + "x" * 60 + "\n" + "y" * 64 + "\n-----END RSA PRIVATE KEY-----"

CODE = f'''import boto3

AWS_KEY = "{SECRETS["aws-access-key-id"]}"
aws_secret_access_key = "{SECRETS["aws-secret-access-key"]}"
GITHUB = "{SECRETS["github-token"]}"
SLACK = "{SECRETS["slack-token"]}"
stripe.api_key = "{SECRETS["stripe-key"]}"
client = OpenAI(api_key="{SECRETS["openai-key"]}")
MAPS = "{SECRETS["google-api-key"]}"
TOKEN = "{SECRETS["jwt"]}"
HF = "{SECRETS["huggingface-token"]}"
DB = "postgres://admin:{SECRETS["url-password"]}@db.example.com:5432/app"
password = "{SECRETS["assigned-secret"]}"
KEY = """{PEM}"""

def connect():
    return boto3.client("s3")
'''


def planted() -> list[str]:
    return [*SECRETS.values(), "MIIEpAIBAAKCAQEA7"]


def test_every_planted_secret_is_found_and_code_is_kept():
    redacted = redact(CODE)
    for secret in planted():
        assert secret not in redacted, secret
    kinds = {kind for _, _, kind in find_secrets(CODE)}
    assert {"private-key", "aws-access-key-id", "github-token", "url-password", "jwt"} <= kinds
    assert "def connect():\n    return boto3.client(\"s3\")" in redacted
    assert "postgres://admin:<redacted:url-password>@db.example.com" in redacted


def test_ordinary_code_is_not_redacted():
    code = 'def password_strength(password: str) -> int:\n    key = compute_key(user)\n    url = "https://example.com/a:b"\n'
    assert redact(code) == code


def test_redact_example_keeps_the_cursor_on_the_same_code():
    cursor = CODE.index("def connect")
    ex = redact_example(Example("e", "a.py", "python", CODE, cursor))
    assert ex.before[ex.cursor :].startswith("def connect")


def repo(tmp_path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(LICENSES / "MIT.txt", root / "LICENSE")
    (root / "app.py").write_text(CODE)
    return root


def example(root) -> Example:
    return Example(
        "cap-1", "app.py", "python", CODE, CODE.index("def connect"),
        events=(Event("app.py", "--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-x\n+" + SECRETS["github-token"] + "\n"),),
        related=(Related("app.py", 0, "GITHUB = '" + SECRETS["github-token"] + "'", "buffer"),),
        expected=CODE.replace("boto3.client", "boto3.resource"),
        meta={"note": "token " + SECRETS["slack-token"]},
    )


def all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_with_capture_off_no_code_is_written_anywhere(tmp_path, data_dir):
    root = repo(tmp_path)
    capturer = Capturer(CapturePolicy(root))  # config default: off
    decision = capturer.capture(example(root), "settled")
    assert not decision.eligible and "capture is off" in decision.reasons[0]
    usage = UsageLog()
    usage.log("shown", id="s1", model="m", latency_ms=12.5, inserted_chars=10)
    usage.close()
    files = sorted(p.name for p in data_dir.rglob("*") if p.is_file())
    assert files and all(name.startswith("usage.sqlite3") for name in files), files
    blob = all_bytes(data_dir)
    assert b"boto3" not in blob and b"connect" not in blob


def test_with_capture_on_secrets_never_reach_the_store_or_an_export(tmp_path, data_dir):
    root = repo(tmp_path)
    save_config(CaptureConfig(capture=True))
    capturer = Capturer(CapturePolicy(root))
    decision = capturer.capture(example(root), "settled")
    assert decision.eligible, decision.reasons
    capturer.close()
    blob = all_bytes(data_dir)
    assert b"boto3.client" in blob  # the code itself was captured
    for secret in planted():
        assert secret.encode() not in blob, secret
    out = io.StringIO()
    with CaptureStore() as store:
        assert export_captures(store, out) == 1
    text = out.getvalue()
    for secret in planted():
        assert secret not in text
    [ex] = read_examples(io.StringIO(text))
    assert ex.meta["kind"] == "settled" and ex.before[ex.cursor :].startswith("def connect")


def test_ineligible_files_are_not_captured_even_when_on(tmp_path, data_dir):
    root = repo(tmp_path)
    (root / "LICENSE").write_text((LICENSES / "GPL-3.0.txt").read_text())
    save_config(CaptureConfig(capture=True))
    decision = Capturer(CapturePolicy(root)).capture(example(root), "settled")
    assert not decision.eligible and not (data_dir / "captures.sqlite3").exists()


def ex(i: int, size: int = 100) -> Example:
    return Example(f"id-{i}", "a.py", "python", "x" * size, 0, expected="y" * size)


def test_store_wal_migrations_and_reopen(tmp_path):
    path = tmp_path / "s.sqlite3"
    with CaptureStore(path, max_bytes=10**9) as store:
        store.add(ex(1), "settled")
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = [r[0] for r in store.conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
        assert names == [name for name, _ in CAPTURE_MIGRATIONS]
    with CaptureStore(path) as store:
        assert len(store) == 1 and store.counts() == {"settled": 1}


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "s.sqlite3"
    CaptureStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _migrations VALUES ('0099_future', 0)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"written by a newer zeta2-capture \(unknown migrations: 0099_future\)"):
        CaptureStore(path)


def test_a_corrupted_store_names_the_file_and_how_to_recover(tmp_path):
    path = tmp_path / "captures.sqlite3"
    path.write_bytes(b"this is not a database, it was overwritten by accident" * 100)
    with pytest.raises(StoreError) as err:
        CaptureStore(path)
    message = str(err.value)
    assert str(path) in message and "corrupted" in message and f"mv '{path}' '{path}.corrupt'" in message


def test_a_full_disk_raises_a_clear_error_and_keeps_committed_records(tmp_path):
    path = tmp_path / "s.sqlite3"
    with CaptureStore(path, max_bytes=10**9) as store:
        store.add(ex(1), "settled")
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full"
        with pytest.raises(StoreError, match="cannot write a capture .*full.*check free space"):
            store.add(ex(2, 50_000), "settled")
        assert [e.id for _, e in store.records()] == ["id-1"]


def test_size_is_bounded_by_evicting_the_oldest(tmp_path):
    with CaptureStore(tmp_path / "s.sqlite3", max_bytes=3000) as store:
        for i in range(20):
            store.add(ex(i), "shown")
        ids = [e.id for _, e in store.records()]
        total = store.conn.execute("SELECT sum(bytes) FROM captures").fetchone()[0]
    assert total <= 3000 and ids == [f"id-{i}" for i in range(20 - len(ids), 20)] and len(ids) >= 5


def test_export_filters_by_time_and_kind_and_purge_vacuums(tmp_path):
    with CaptureStore(tmp_path / "s.sqlite3", max_bytes=10**9) as store:
        store.add(ex(1, 20_000), "settled", created_at=parse_time("2026-01-01"))
        store.add(ex(2), "shown", created_at=parse_time("2026-06-01"))
        store.add(ex(3), "settled", created_at=parse_time("2026-07-01T12:00:00Z"))
        out = io.StringIO()
        assert export_captures(store, out, since=parse_time("2026-05-01"), kind="settled") == 1
        assert json.loads(out.getvalue())["id"] == "id-3"
        assert json.loads(out.getvalue())["meta"]["captured_at"] == "2026-07-01T12:00:00.000Z"
        size = store.size_bytes()
        assert store.purge(before=parse_time("2026-03-01")) == 1
        assert store.size_bytes() < size
        assert store.purge() == 2 and len(store) == 0


def test_usage_log_holds_metadata_only(tmp_path):
    usage = UsageLog(tmp_path / "u.sqlite3", enabled=True)
    usage.log("shown", id="s1", model="m@1", variant="B", latency_ms=40.0, ts=parse_time("2026-02-01"))
    usage.log("accepted", id="s1", model="m@1", variant="B", accepted_length=12)
    with pytest.raises(UsageError, match=r"unknown field 'text' \(the usage log holds metadata only"):
        usage.log("shown", id="s2", text="def f(): pass")
    with pytest.raises(UsageError, match="field 'reason' looks like text, not a label"):
        usage.log("rejected", id="s2", reason="line one\nline two")
    with pytest.raises(UsageError, match="unknown event 'clicked'"):
        usage.log("clicked")
    with pytest.raises(UsageError, match="field 'latency_ms' must be int or float, got str"):
        usage.log("shown", latency_ms="fast")
    out = io.StringIO()
    assert export_usage(usage, out, since=parse_time("2026-03-01")) == 1
    record = json.loads(out.getvalue())
    assert record["event"] == "accepted" and record["accepted_length"] == 12 and record["ts"].endswith("Z")
    assert usage.counts() == {"accepted": 1, "shown": 1}
    usage.close()


def test_usage_log_switched_off_writes_nothing(tmp_path):
    usage = UsageLog(tmp_path / "u.sqlite3", enabled=False)
    assert usage.log("shown", id="s1") is False
    assert not (tmp_path / "u.sqlite3").exists()


def test_parse_time_errors_are_exact():
    with pytest.raises(ValueError, match=r"invalid time 'yesterday': use an ISO 8601 date or time"):
        parse_time("yesterday")
    assert parse_time("2d", now=1_000_000) == 1_000_000 - 2 * 86400


def test_usage_log_takes_the_daemons_timings_and_outcomes(tmp_path):
    usage = UsageLog(tmp_path / "u.sqlite3", enabled=True)
    usage.log("suggested", id="s1", variant="A", timing_ms={"prefill": 12.5, "decode": 30}, inserted_chars=4)
    usage.log("suppressed", variant="A", reason="reverts-last-edit")
    with pytest.raises(UsageError, match="field 'timing_ms' must map short names to numbers"):
        usage.log("suggested", timing_ms={"prefill": "def f(): pass"})
    assert [r["event"] for r in usage.records()] == ["suggested", "suppressed"]
    usage.close()


def test_a_read_only_store_raises_a_clear_error(tmp_path):
    # tests run as root, where file modes do not stop writes: SQLite's query_only gives the same
    # SQLITE_READONLY error a read-only file or mount gives
    with CaptureStore(tmp_path / "s.sqlite3") as store:
        store.add(ex(1), "settled")
        store.conn.execute("PRAGMA query_only = ON")
        with pytest.raises(StoreError, match="cannot write a capture .*readonly.*check free space and permissions"):
            store.add(ex(2), "settled")


def test_the_capturer_never_raises_when_the_store_is_broken(tmp_path, data_dir):
    root = repo(tmp_path)
    save_config(CaptureConfig(capture=True))
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "captures.sqlite3").write_bytes(b"not sqlite" * 200)
    capturer = Capturer(CapturePolicy(root))
    decision = capturer.capture(example(root), "settled")
    assert not decision.eligible and "the capture store is corrupted" in decision.reasons[0]
    assert capturer.failures == 1
