"""Fixtures every part's tests share: the shared data set and the SmolLM2 tokenizer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("ZETA2_SHARED_DATA", REPO.parent / "shared" / "data"))
CACHE = REPO / ".cache" / "tests"


def shared_file(name: str) -> Path:
    """A file of ../shared/data, or a skip that says why the test cannot run."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"shared data {path} is absent (set ZETA2_SHARED_DATA to the folder holding {name})")
    return path


@pytest.fixture(scope="session")
def dev_jsonl() -> Path:
    return shared_file("dev.jsonl")


@pytest.fixture(scope="session")
def train_jsonl() -> Path:
    return shared_file("train.jsonl")


@pytest.fixture(scope="session")
def smollm2_tokenizer_json() -> Path:
    """SmolLM2's tokenizer.json, extracted once from the installed GGUF into .cache/tests."""
    from zeta2_trainer.smollm2 import extract_tokenizer

    return extract_tokenizer(CACHE / "smollm2-tokenizer")
