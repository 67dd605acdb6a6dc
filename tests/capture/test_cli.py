"""`zeta2-capture` end to end, in an isolated data dir."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zeta2_capture.cli import CliError, main, run
from zeta2_capture.config import load_config
from zeta2_capture.schema import Example
from zeta2_capture.store import CaptureStore
from zeta2_capture.usage import UsageLog

COMMANDS = ["status", "enable", "disable", "explain", "export", "ship", "purge", "stats"]
WORKSPACE = Path(__file__).resolve().parent / "fixtures" / "workspace"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_for_every_command(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"usage: zeta2-capture {command}" in capsys.readouterr().out


def test_console_script_runs(data_dir):
    exe = Path(sys.executable).parent / "zeta2-capture"
    done = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and all(c in done.stdout for c in COMMANDS)


def test_enable_disable_persist_and_status_reports(data_dir, capsys):
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "capture: off" in out and "(not created yet)" in out and "nothing leaves this machine" in out
    assert main(["enable"]) == 0 and load_config().capture is True
    assert json.loads((data_dir / "config.json").read_text())["capture"] is True
    main(["status"])
    assert "capture: on" in capsys.readouterr().out
    assert main(["disable"]) == 0 and load_config().capture is False


def test_status_counts_by_kind(data_dir, capsys):
    with CaptureStore() as store:
        store.add(Example("a", "a.py", "python", "x", 0), "settled")
        store.add(Example("b", "a.py", "python", "x", 0), "settled")
        store.add(Example("c", "a.py", "python", "x", 0), "shown")
    main(["status"])
    assert "captures: settled 2, shown 1" in capsys.readouterr().out


def test_explain_says_why(data_dir, capsys):
    main(["explain", str(WORKSPACE / "py" / "inventory" / "models.py"), "--root", str(WORKSPACE)])
    out = capsys.readouterr().out
    assert "models.py: eligible:" in out and "licensed MIT (LICENSE)" in out and "capture is off" in out
    main(["explain", str(WORKSPACE / "creds.secret.py"), "--root", str(WORKSPACE)])
    out = capsys.readouterr().out
    assert "not eligible" in out and "looks like a secrets file (matches *secret*)" in out


def test_explain_missing_file_is_an_exact_error(data_dir, capsys):
    with pytest.raises(CliError, match=r"^nope\.py: no such file$"):
        run(["explain", "nope.py"])
    assert main(["explain", "nope.py"]) == 2
    assert capsys.readouterr().err == "zeta2-capture explain: error: nope.py: no such file\n"


def test_export_to_stdout_and_file_with_filters(data_dir, tmp_path, capsys):
    with CaptureStore() as store:
        store.add(Example("a", "a.py", "python", "x", 0, expected="y"), "settled")
        store.add(Example("b", "a.py", "python", "x", 0), "shown")
    assert main(["export", "--kind", "settled", "-o", "-"]) == 0
    captured = capsys.readouterr()
    [record] = [json.loads(line) for line in captured.out.splitlines()]
    assert record["id"] == "a" and record["expected"] == "y" and "exported 1 captures" in captured.err
    out = tmp_path / "all.jsonl"
    main(["export", "-o", str(out)])
    assert len(out.read_text().splitlines()) == 2


def test_export_usage(data_dir, capsys):
    UsageLog().log("shown", id="s1", model="m", latency_ms=5.0)
    main(["export", "--usage", "-o", "-"])
    assert json.loads(capsys.readouterr().out)["id"] == "s1"
    with pytest.raises(CliError, match=r"^--kind applies to captures, not to --usage$"):
        run(["export", "--usage", "--kind", "settled", "-o", "-"])


def test_bad_since_is_an_exact_error(data_dir):
    with pytest.raises(CliError, match=r"^invalid time 'last week': use an ISO 8601 date or time"):
        run(["export", "--since", "last week", "-o", "-"])


def test_ship_needs_a_destination_then_remembers_it(data_dir, tmp_path, capsys):
    with pytest.raises(CliError, match=r"^no destination: run `zeta2-capture ship --to DIR\|URL`"):
        run(["ship"])
    with CaptureStore() as store:
        store.add(Example("a", "a.py", "python", "x", 0), "settled")
    outbox = tmp_path / "outbox"
    assert main(["ship", "--to", str(outbox)]) == 0
    assert "shipped 1 captures in 1 batches" in capsys.readouterr().out
    assert load_config().ship_to == str(outbox)
    main(["ship"])
    assert "shipped 0 captures" in capsys.readouterr().out


def test_purge_all_and_before(data_dir, capsys):
    with CaptureStore() as store:
        store.add(Example("a", "a.py", "python", "x", 0), "settled", created_at=0)
        store.add(Example("b", "a.py", "python", "x", 0), "settled")
    main(["purge", "--before", "1d"])
    assert "purged 1 captures" in capsys.readouterr().out
    main(["purge", "--all"])
    assert "purged 1 captures" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["purge"])  # one of --before / --all is required


def test_stats(data_dir, capsys):
    with CaptureStore() as store:
        store.add(Example("a", "a.py", "python", "x", 0, meta={"kept_rate": 0.5}), "settled")
    usage = UsageLog()
    for event in ("shown", "shown", "accepted"):
        usage.log(event, id="s")
    main(["stats"])
    out = capsys.readouterr().out
    assert "settled   1" in out and "mean settled kept rate: 0.500" in out
    assert "acceptance rate: 0.500 of 2 shown" in out


def test_a_corrupted_config_is_reported(data_dir, capsys):
    data_dir.mkdir(parents=True)
    (data_dir / "config.json").write_text("{broken")
    assert main(["status"]) == 2
    assert "config.json:1: invalid JSON" in capsys.readouterr().err


def test_usage_log_switches_on_and_off_on_its_own(data_dir, capsys):
    assert main(["disable", "--usage-log"]) == 0
    config = load_config()
    assert config.usage_log is False and config.capture is False
    assert UsageLog().log("shown", id="s") is False
    main(["enable", "--usage-log"])
    assert load_config().usage_log is True and load_config().capture is False


def test_a_corrupted_store_is_reported_with_the_way_out(data_dir, capsys):
    data_dir.mkdir(parents=True)
    store = data_dir / "captures.sqlite3"
    store.write_bytes(b"garbage" * 1000)
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"zeta2-capture status: error: {store}: the capture store is corrupted")
    assert f"mv '{store}' '{store}.corrupt'" in err
