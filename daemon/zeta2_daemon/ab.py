"""A/B routing: which model pack answers for a document.

A user must see one variant per file for the whole test (a file that flips between models would make
acceptance incomparable), so the variant is a stable hash of (installation id, document path) mapped
onto the cumulative traffic shares. The installation id is random, made once and kept in the data
dir, so two users get independent assignments and nothing about the user is hashed.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

from .config import Variant


class ABError(ValueError):
    pass


def parse_ab_option(value: str) -> Variant:
    """`PACK_DIR=SHARE` from the command line (`--ab`)."""
    pack, sep, share = value.rpartition("=")
    if not sep or not pack:
        raise ABError(f"--ab {value!r}: expected PACK_DIR=SHARE, e.g. --ab ~/packs/new=0.5")
    try:
        number = float(share)
    except ValueError:
        raise ABError(f"--ab {value!r}: share {share!r} is not a number") from None
    if not number > 0:
        raise ABError(f"--ab {value!r}: share must be positive")
    return Variant(pack, number, Path(pack).name)


def bucket(installation_id: str, document: str) -> float:
    """A number in [0, 1) that depends only on (installation id, document)."""
    digest = hashlib.sha256(f"{installation_id}\0{document}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(installation_id: str, document: str, variants: Sequence[Variant]) -> Variant:
    """The variant for this document; shares need not sum to 1 (they are normalised)."""
    if not variants:
        raise ABError("no variants to choose from")
    total = sum(v.share for v in variants)
    point = bucket(installation_id, document) * total
    running = 0.0
    for variant in variants:
        running += variant.share
        if point < running:
            return variant
    return variants[-1]


def installation_id(data_dir: Path) -> str:
    """The random id of this installation, created on first use in `data_dir/installation-id`."""
    path = Path(data_dir) / "installation-id"
    try:
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = uuid.uuid4().hex
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(value + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return value
