"""Fixtures for the capture tests: an isolated data dir, the fixture workspace, a driven clock."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WORKSPACE = FIXTURES / "workspace"


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """ZETA2_DATA_DIR pointed at an empty folder: config, store and usage log live there."""
    folder = tmp_path / "zeta2-data"
    monkeypatch.setenv("ZETA2_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def workspace_copy(tmp_path) -> Path:
    """A writable copy of the fixture workspace (index tests change files on disk)."""
    target = tmp_path / "workspace"
    shutil.copytree(WORKSPACE, target)
    return target


class Clock:
    """A clock tests move by hand: no sleeping."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def workspace_root() -> Path:
    return WORKSPACE


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
