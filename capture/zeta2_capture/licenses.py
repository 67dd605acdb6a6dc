"""Open-source license detection by license TEXT, never by file name alone.

    identify_license(text) -> LicenseMatch(spdx, eligible, reason)
    workspace_license(root) -> WorkspaceLicense(eligible, files: list[(name, LicenseMatch)], reason)

Eligible licenses (brief §5): MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause, ISC, 0BSD, UPL-1.0,
Zlib. Their reference texts live in `zeta2_capture/data/licenses/`. A text matches a reference
when, compared word by word (case, punctuation and copyright lines ignored), it covers at least
85% of the reference AND adds no clause of its own: any run of 4 or more words that the reference
does not have (a "modified MIT" with an extra condition) disqualifies it. Holder names that replace
the reference's ("the Regents" for "the copyright holders") are not additions.

A workspace is eligible when its root holds at least one license file (LICENSE*, LICENCE*,
COPYING*) and every such file is an eligible license — so dual MIT/Apache-2.0 repositories (two
files) are eligible, and a repository that also carries a GPL COPYING file is not.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ELIGIBLE = ("MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "0BSD", "UPL-1.0", "Zlib")
MIN_COVERAGE = 0.85
MAX_ADDED_RUN = 3  # a run of more added words than this is a clause the reference does not have
LICENSE_FILE = re.compile(r"^(un)?licen[cs]e|^copying", re.IGNORECASE)
MAX_LICENSE_BYTES = 200_000

# Licenses we recognise in order to say so, but that are not eligible.
_INELIGIBLE_MARKERS = (
    ("gnu affero general public license", "AGPL"),
    ("gnu lesser general public license", "LGPL"),
    ("gnu library general public license", "LGPL"),
    ("gnu general public license", "GPL"),
    ("mozilla public license", "MPL"),
    ("business source license", "BUSL"),
    ("server side public license", "SSPL"),
    ("creative commons", "CC"),
)


@dataclass(frozen=True, slots=True)
class LicenseMatch:
    spdx: str | None  # the license it is, when known (eligible or not)
    eligible: bool
    reason: str


@dataclass(frozen=True, slots=True)
class WorkspaceLicense:
    eligible: bool
    files: tuple[tuple[str, LicenseMatch], ...]
    reason: str

    @property
    def spdx(self) -> tuple[str, ...]:
        return tuple(m.spdx for _, m in self.files if m.spdx)


_COPYRIGHT_LINE = re.compile(r"^\s*(copyright\b|\(c\)|©|all rights reserved)", re.IGNORECASE)


def _words(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if not _COPYRIGHT_LINE.match(line)]
    text = " ".join(lines).lower().replace("``", '"').replace("''", '"')
    return re.findall(r"[a-z0-9]+", text)


_references: dict[str, list[str]] | None = None
_ref_lock = threading.Lock()


def _reference_words() -> dict[str, list[str]]:
    global _references
    with _ref_lock:
        if _references is None:
            folder = resources.files("zeta2_capture") / "data" / "licenses"
            _references = {spdx: _words((folder / f"{spdx}.txt").read_text(encoding="utf-8")) for spdx in ELIGIBLE}
        return _references


def _compare(words: list[str], reference: list[str]) -> tuple[float, list[str]]:
    """(coverage of the reference, the longest run of words the text adds)."""
    matcher = difflib.SequenceMatcher(None, reference, words, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    added: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        extra = (j2 - j1) - (i2 - i1) if op == "replace" else (j2 - j1 if op == "insert" else 0)
        if extra > len(added):
            added = words[j1:j2]
    return matched / max(1, len(reference)), added


def identify_license(text: str) -> LicenseMatch:
    words = _words(text)
    if not words:
        return LicenseMatch(None, False, "empty license file")
    best: tuple[bool, float, str, list[str]] | None = None
    for spdx, reference in _reference_words().items():
        if len(words) > 2.5 * len(reference) + 40 or len(words) < 0.5 * len(reference):
            continue
        coverage, added = _compare(words, reference)
        # a reference the text adds nothing to beats one it covers better but adds a clause to
        candidate = (len(added) <= MAX_ADDED_RUN, coverage, spdx, added)
        if coverage >= MIN_COVERAGE and (best is None or candidate[:2] > best[:2]):
            best = candidate
    if best is not None:
        _, coverage, spdx, added = best
        if len(added) > MAX_ADDED_RUN:
            clause = " ".join(added[:16]) + (" …" if len(added) > 16 else "")
            return LicenseMatch(spdx, False, f"{spdx} text with added terms (\"{clause}\"), so not the {spdx} license")
        return LicenseMatch(spdx, True, f"{spdx} ({coverage:.0%} of the reference text, nothing added)")
    head = " ".join(words[:400])
    for marker, name in _INELIGIBLE_MARKERS:
        if marker in head:
            version = re.search(r"version (\d)", head)
            spdx = f"{name}-{version.group(1)}.0" if version and name in ("GPL", "LGPL", "AGPL", "MPL") else name
            return LicenseMatch(spdx, False, f"{spdx} is not an eligible license (only {', '.join(ELIGIBLE)})")
    return LicenseMatch(None, False, "not a recognised open-source license text")


_cache: dict[tuple, WorkspaceLicense] = {}


def license_files(root: Path) -> list[Path]:
    try:
        return sorted(p for p in root.iterdir() if LICENSE_FILE.match(p.name) and p.is_file())
    except OSError:
        return []


def workspace_license(root: str | Path) -> WorkspaceLicense:
    """The license decision for a workspace root (cached until a license file changes)."""
    root = Path(root)
    files = license_files(root)
    key = (str(root), tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files))
    hit = _cache.get(key)
    if hit is not None:
        return hit
    if not files:
        result = WorkspaceLicense(False, (), f"no license file (LICENSE, COPYING) in the workspace root {root}")
    else:
        matches = []
        for p in files:
            try:
                text = p.read_bytes()[:MAX_LICENSE_BYTES].decode("utf-8", "replace")
            except OSError as exc:
                matches.append((p.name, LicenseMatch(None, False, f"cannot read: {exc.strerror}")))
                continue
            matches.append((p.name, identify_license(text)))
        bad = [(name, m) for name, m in matches if not m.eligible]
        if bad:
            reason = "; ".join(f"{name}: {m.reason}" for name, m in bad)
        else:
            reason = "licensed " + " and ".join(f"{m.spdx} ({name})" for name, m in matches)
        result = WorkspaceLicense(not bad, tuple(matches), reason)
    _cache[key] = result
    return result
