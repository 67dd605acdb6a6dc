"""CI soak: 500 edits with a suggestion request after each, against the real daemon and the tiny pack.

The full 10,000-edit run is `bench/daemon/soak.py` (numbers in docs/benchmarks.md).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SOAK = Path(__file__).resolve().parents[2] / "bench" / "daemon" / "soak.py"


def load_soak():
    spec = importlib.util.spec_from_file_location("zeta2_bench_soak", SOAK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_soak_500_edits(tmp_path, tiny_pack, monkeypatch):
    soak = load_soak()
    env = {**__import__("os").environ, "ZETA2_DATA_DIR": str(tmp_path / "data")}
    stats = await soak.soak(tiny_pack, edits=500, burst=10, sample_every=50, env=env, log=lambda *_: None)
    assert stats["errors"] == 0
    assert stats["requests"] == 500
    assert stats["suggestions"] > 0  # the tiny pack answers the sessions' states it was trained on
    # Bounded queue: at most maxPending (2) per open document.
    assert stats["max_pending"] <= 2 * 6
    warm = [mb for n, mb in stats["rss_samples"] if n >= 100]
    assert max(warm) - min(warm) < 40, stats["rss_samples"]
