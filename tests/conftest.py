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


# --- model packs (issue #4): built once, cached under .cache/tests by a hash of what they are made from ---


@pytest.fixture(scope="session")
def tiny_pack_builder():
    """tests/tiny_pack.py as a module: load_sessions(), session_example(), canonical_examples(), ..."""
    import importlib.util
    import sys

    name = "zeta2_tiny_pack"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "tiny_pack.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def tiny_pack(tiny_pack_builder, smollm2_tokenizer_json) -> Path:
    """The tiny trained test pack: answers tests/fixtures/sessions exactly (see tests/tiny_pack.py)."""
    return tiny_pack_builder.tiny_pack_dir(smollm2_tokenizer_json)


def _smollm2_pack_key() -> str:
    import hashlib

    from zeta2_capture.prompt import FORMAT_NAME, FORMAT_VERSION
    from zeta2_trainer.smollm2 import find_gguf

    digest = hashlib.sha256(f"{FORMAT_NAME} {FORMAT_VERSION} {find_gguf().stat().st_size}".encode())
    for name in ("trainer/zeta2_trainer/bootstrap.py", "trainer/zeta2_trainer/export.py", "daemon/zeta2_daemon/pack.py",
                 "capture/zeta2_capture/tokenmap.py"):
        digest.update((REPO / name).read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def smollm2_pack() -> Path:
    """`zeta2-trainer bootstrap`'s SmolLM2-135M pack (fp32, untrained base); its HF copy is beside it."""
    import fcntl
    import shutil

    from zeta2_trainer.smollm2 import ModelNotInstalled, find_gguf

    try:
        find_gguf()
    except ModelNotInstalled as exc:
        pytest.skip(str(exc))
    key = _smollm2_pack_key()
    target = CACHE / f"smollm2-pack-{key}"
    if (target / "pack" / "manifest.json").exists():
        return target / "pack"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / "smollm2-pack.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "pack" / "manifest.json").exists():
            from zeta2_trainer.bootstrap import bootstrap

            staging = CACHE / f".smollm2-pack-{key}.building"
            shutil.rmtree(staging, ignore_errors=True)
            bootstrap(staging / "pack", hf_dir=staging / "hf", adapter=False)
            staging.rename(target)
    return target / "pack"
