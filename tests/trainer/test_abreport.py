"""`zeta2-trainer ab-report` on a usage log whose numbers were worked out by hand."""

from __future__ import annotations

import json

import pytest

from zeta2_trainer import cli


def event(kind: str, sid: str, **fields) -> str:
    return json.dumps({"ts": "2026-11-26T10:00:00.000Z", "event": kind, "id": sid, **fields})


def usage_log(tmp_path):
    """Variant A: 100 shown, 40 accepted + 5 partially accepted, 30 rejected, 25 ignored.
    Variant B: 100 shown, 55 accepted + 5 partially accepted, 20 rejected. Plus noise the report must skip."""
    lines = []
    for variant, model, full, partial, rejected in (("A", "pack-a@1", 40, 5, 30), ("B", "pack-b@2", 55, 5, 20)):
        for i in range(100):
            sid = f"{variant}-{i}"
            lines.append(event("requested", sid, model=model, variant=variant))
            # latencies 1..100 ms for A, 101..200 for B
            lines.append(event("shown", sid, model=model, variant=variant, latency_ms=float(i + 1 + (100 if variant == "B" else 0))))
            if i < full:
                lines.append(event("accepted", sid, model=model, variant=variant))
                # settled kept rate: A keeps 0.5 of every accepted suggestion, B 0.75
                lines.append(event("settled", sid, model=model, variant=variant, kept_rate=0.5 if variant == "A" else 0.75))
            elif i < full + partial:
                lines.append(event("partial", sid, model=model, variant=variant, accepted_length=3))
            elif i < full + partial + rejected:
                lines.append(event("rejected", sid, model=model, variant=variant, reason="dismissed" if i % 2 else "typed_over"))
    lines.append(event("accepted", "ghost", model="pack-a@1", variant="A"))  # no shown event: not counted
    lines.append(json.dumps({"ts": "2026-11-26T10:00:00.000Z", "event": "error", "reason": "model_load"}))
    path = tmp_path / "usage.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_ab_report_by_hand(tmp_path, capsys):
    log = usage_log(tmp_path)
    out = tmp_path / "ab.json"
    assert cli.main(["ab-report", "-i", str(log), "-o", str(out), "--effect", "0.05", "--markdown", str(tmp_path / "ab.md")]) == 0
    report = json.loads(out.read_text())
    a, b = report["variants"]
    assert (a["variant"], a["shown"], a["accepted"], a["partial"], a["rejected"]) == ("A", 100, 40, 5, 30)
    assert (b["variant"], b["shown"], b["accepted"], b["partial"], b["rejected"]) == ("B", 100, 55, 5, 20)
    assert a["models"] == ["pack-a@1"] and a["reject_reasons"] == {"dismissed": 15, "typed_over": 15}
    assert a["acceptance_rate"] == pytest.approx(0.45) and b["acceptance_rate"] == pytest.approx(0.60)
    # Wilson 45/100: z^2 = 3.841459, denom = 1.0384146, center = (0.45 + 0.0192073)/denom = 0.4518497,
    # half = z * sqrt(0.002475 + 0.0000960) / denom = 0.0957043  ->  (0.3561454, 0.5475540)
    assert a["acceptance_wilson"] == pytest.approx([0.3561454, 0.5475540], abs=1e-6)
    # Latency of shown suggestions 1..100 ms: p50 = 50.5, p90 = 90.1 (linear interpolation)
    assert (a["latency_p50_ms"], a["latency_p90_ms"]) == pytest.approx((50.5, 90.1))
    assert (b["latency_p50_ms"], b["latency_p90_ms"]) == pytest.approx((150.5, 190.1))
    assert (a["settled"], a["settled_kept_rate"], b["settled_kept_rate"]) == (40, 0.5, 0.75)

    [diff] = report["comparisons"]
    assert (diff["control"], diff["variant"]) == ("A", "B")
    # Pooled p = 105/200 = 0.525; se = sqrt(0.525 * 0.475 * 0.02) = 0.0706222; z = 0.15 / se = 2.123977;
    # p = 2 * (1 - Phi(z)) = 0.033672  ->  significant at 0.05.
    assert diff["difference"] == pytest.approx(0.15)
    assert diff["z"] == pytest.approx(2.123977, abs=1e-6) and diff["p_value"] == pytest.approx(0.033672, abs=1e-6)
    assert diff["significant"] is True
    # Detecting 0.45 -> 0.50: pbar = 0.475; (1.959964 * sqrt(2 * 0.475 * 0.525) + 0.841621 * sqrt(0.2475 + 0.25))^2 / 0.05^2
    # = (1.3841701 + 0.5936254)^2 / 0.0025 = 1564.67 -> 1565 per variant; 100 shown -> 1465 still needed.
    assert diff["needed_per_variant"] == 1565 and diff["still_needed_per_variant"] == 1465

    assert report["outcomes_without_shown_event"] == 1
    assert report["events"]["error"] == 1 and report["events"]["shown"] == 200
    printed = capsys.readouterr().out
    assert "| A | 100 | 40 | 5 | 30 | 45.0% | [35.6%, 54.8%] | 50.0% | 50 | 90 |" in printed
    assert "| B vs A | +15.0% |" in printed
    assert (tmp_path / "ab.md").read_text() == printed


def test_control_can_be_chosen_and_must_exist(tmp_path, capsys):
    log = usage_log(tmp_path)
    assert cli.main(["ab-report", "-i", str(log), "-o", "-", "--control", "B"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["comparisons"][0]["difference"] == pytest.approx(-0.15)
    assert cli.main(["ab-report", "-i", str(log), "--control", "C"]) == 2
    assert "zeta2-trainer ab-report: error: --control 'C': no such variant; the log has A, B" in capsys.readouterr().err


def test_bad_usage_lines_name_file_and_line(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text(event("shown", "x", variant="A") + "\n{not json\n")
    assert cli.main(["ab-report", "-i", str(path)]) == 2
    assert f"{path}:2: invalid JSON" in capsys.readouterr().err
    path.write_text(event("shown", "x", variant="A", latency_ms="fast") + "\n")
    assert cli.main(["ab-report", "-i", str(path)]) == 2
    assert f"{path}:1: field 'latency_ms' must be a number" in capsys.readouterr().err
    path.write_text(event("requested", "x", variant="A") + "\n")
    assert cli.main(["ab-report", "-i", str(path)]) == 2
    assert "no shown suggestions in the usage log" in capsys.readouterr().err
