"""Mining candidate edits from a git repository's history (work tree or bare), for `synthesize`.

One `git log -p -U0` streams every non-merge, non-root commit with its zero-context hunks (git's Myers
diff with the indent heuristic); one `git cat-file --batch` process serves the file versions. A file
change becomes a candidate when it passes the filters of ../shared/data/README.md: modified in place,
a source language, not vendored or generated, strict UTF-8 without CR or NUL, at most 600 lines and
40,000 bytes, sane line lengths, no "generated" marker up top, 1-6 hunks and at most 30 changed lines,
not whitespace- or comment-only, and not a repeat of a change already seen (digits ignored).

Candidates are small descriptors (shas, hunk headers); texts are fetched again when an example is built,
so memory grows with the number of candidates, not with the repository's size.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .common import StageError

MAX_FILES_PER_COMMIT = 20
MAX_LINES_PER_COMMIT = 500
MAX_HUNKS = 6
MAX_CHANGED_LINES = 30
MAX_FILE_LINES = 600
MAX_FILE_BYTES = 40_000
MAX_LINE_CHARS = 5_000
MAX_MEAN_LINE = 200
MULTI_SPAN_LINES = 60

SKIP_SEGMENTS = frozenset(
    {"vendor", "third_party", "node_modules", "dist", "build", "target", "fixtures", "testdata", "snapshots", "generated"}
)
SKIP_NAME = re.compile(r"(\.min\.js|\.bundle\.js|_pb2\.py|\.pb\.go)$|\.generated\.|lock", re.IGNORECASE)
GENERATED_MARKER = re.compile(r"\bgenerated\b|do not edit", re.IGNORECASE)
HUNK_HEADER = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


# ---------------------------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class Hunk:
    """A zero-context change: old lines [old_start, old_start+old_count) -> new lines (0-based)."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int


@dataclass
class FileChange:
    path: str
    status: str = "M"  # M, A, D
    old_sha: str = ""
    new_sha: str = ""
    binary: bool = False
    quoted: bool = False
    hunks: list[Hunk] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    commit: str
    committed_at: str
    path: str
    language: str
    old_sha: str
    new_sha: str
    hunks: tuple[Hunk, ...]
    multi: bool  # 2-6 hunks within 60 lines, the last one a real change
    isolated: bool  # one hunk, and the commit touches no other source file
    typable: bool  # one hunk whose inserted text can be typed part way


def split_lines(text: str) -> list[str]:
    """Lines with "\\n" kept (only "\\n" splits, unlike str.splitlines)."""
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def to_hunk(match: re.Match) -> Hunk:
    os_, oc, ns, nc = (int(g) if g is not None else 1 for g in match.groups())
    # With zero context an empty side's start is the line *after which* the change sits.
    return Hunk(os_ if oc == 0 else os_ - 1, oc, ns if nc == 0 else ns - 1, nc)


# ---------------------------------------------------------------------------------------------
# git processes


def check_repository(repo: str | Path) -> Path:
    path = Path(repo)
    if not path.exists():
        raise StageError(f"repository {repo} does not exist")
    probe = subprocess.run(["git", "-C", str(path), "rev-parse", "--git-dir"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise StageError(f"{repo} is not a git repository: {probe.stderr.strip()}")
    return path


def repo_name(repo: Path) -> str:
    """owner/name from the origin remote's URL, else the folder name (without .git)."""
    url = subprocess.run(["git", "-C", str(repo), "config", "--get", "remote.origin.url"], capture_output=True, text=True).stdout.strip()
    if url:
        tail = re.split(r"[/:]", url.removesuffix("/").removesuffix(".git"))
        if len(tail) >= 2 and tail[-2] and tail[-1]:
            return f"{tail[-2]}/{tail[-1]}"
    return repo.resolve().name.removesuffix(".git")


def count_commits(repo: Path, rev: str) -> int:
    out = subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "--no-merges", "--min-parents=1", rev], capture_output=True, text=True)
    if out.returncode != 0:
        raise StageError(f"git rev-list {rev} failed in {repo}: {out.stderr.strip()}")
    return int(out.stdout.strip() or 0)


def walk_commits(repo: Path, rev: str = "HEAD") -> Iterator[tuple[str, str, list[FileChange]]]:
    """(sha, committer date, file changes) of every non-merge, non-root commit, newest first."""
    cmd = [
        "git", "-C", str(repo), "-c", "core.quotePath=false", "log", "--no-merges", "--min-parents=1",
        "--no-renames", "--full-index", "-p", "-U0", "--indent-heuristic", "--no-color", "--no-ext-diff",
        "--format=%x01%H%x00%cI", rev, "--",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    sha = date = ""
    files: list[FileChange] = []
    current: FileChange | None = None
    try:
        for line in proc.stdout:
            if line.startswith(b"\x01"):
                if sha:
                    yield sha, date, files
                head = line[1:].rstrip(b"\n").split(b"\x00")
                sha, date = head[0].decode(), head[1].decode()
                files, current = [], None
            elif line.startswith(b"diff --git "):
                rest = line[len(b"diff --git "):].rstrip(b"\n")
                quoted = rest.startswith(b'"')
                # "a/P b/P" with renames off: both halves are the same path.
                half = (len(rest) - 1) // 2
                path = rest[2:half].decode("utf-8", "replace")
                current = FileChange(path=path, quoted=quoted)
                files.append(current)
            elif current is None:
                continue
            elif line.startswith(b"@@ "):
                m = HUNK_HEADER.match(line)
                if m:
                    current.hunks.append(to_hunk(m))
            elif line.startswith(b"index "):
                shas = line.split()[1].split(b"..")
                current.old_sha, current.new_sha = shas[0].decode(), shas[1].decode()
            elif line.startswith(b"new file mode"):
                current.status = "A"
            elif line.startswith(b"deleted file mode"):
                current.status = "D"
            elif line.startswith(b"Binary files"):
                current.binary = True
        if sha:
            yield sha, date, files
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()


class CatFile:
    """One `git cat-file --batch` process: blob bytes by sha."""

    def __init__(self, repo: Path):
        self._proc = subprocess.Popen(["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, sha: str) -> bytes | None:
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write(sha.encode() + b"\n")
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            return None
        size = int(header[2])
        data = self._proc.stdout.read(size)
        self._proc.stdout.read(1)
        return data

    def read_many(self, shas: list[str]) -> list[bytes | None]:
        """Several blobs for one round trip (all requests written, then all answers read)."""
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write("".join(f"{sha}\n" for sha in shas).encode())
        self._proc.stdin.flush()
        out: list[bytes | None] = []
        for _ in shas:
            header = self._proc.stdout.readline().split()
            if len(header) < 3 or header[1] != b"blob":
                out.append(None)
                continue
            out.append(self._proc.stdout.read(int(header[2])))
            self._proc.stdout.read(1)
        return out

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()


# ---------------------------------------------------------------------------------------------
# filters


def path_skip_reason(path: str) -> str | None:
    parts = PurePosixPath(path).parts
    if any(p in SKIP_SEGMENTS for p in parts[:-1]) or "deno/lib/" in path:
        return "vendored or generated path"
    if SKIP_NAME.search(parts[-1]):
        return "vendored or generated path"
    return None


def decode_source(data: bytes | None) -> tuple[str | None, str | None]:
    """(text, None) for a usable file version, else (None, reason)."""
    if data is None:
        return None, "file version missing"
    if len(data) > MAX_FILE_BYTES:
        return None, "file too large"
    if b"\r" in data or b"\x00" in data:
        return None, "CR or NUL in file"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    lines = text.split("\n")
    if len(split_lines(text)) > MAX_FILE_LINES:
        return None, "file too large"
    if any(len(line) > MAX_LINE_CHARS for line in lines) or len(text) / max(1, len(lines)) > MAX_MEAN_LINE:
        return None, "long lines"
    if GENERATED_MARKER.search("\n".join(lines[:5])):
        return None, "generated marker"
    return text, None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# Comments (and Python docstrings) per grammar, as tree-sitter queries (run in C, not a Python walk).
COMMENT_QUERIES = {
    "python": "(comment) @c (expression_statement (string) @c) (expression_statement (concatenated_string) @c)",
    "javascript": "(comment) @c",
    "typescript": "(comment) @c",
    "tsx": "(comment) @c",
    "rust": "(line_comment) @c (block_comment) @c",
    "go": "(comment) @c",
}
_queries: dict[str, object] = {}


def _comment_query(language: str):
    import tree_sitter

    from zeta2_capture.languages import ts_language

    query = _queries.get(language)
    if query is None:
        query = _queries[language] = tree_sitter.Query(ts_language(language), COMMENT_QUERIES[language])
    return query


def strip_comments(language: str, text: str) -> list[str]:
    """The file's lines with comments (and Python docstrings) cut out; line breaks stay where they were."""
    import tree_sitter

    from zeta2_capture import languages

    if language not in COMMENT_QUERIES:
        return split_lines(text)
    data = text.encode("utf-8")
    tree = languages.parse(language, text)
    if tree is None:
        return split_lines(text)
    captures = tree_sitter.QueryCursor(_comment_query(language)).captures(tree.root_node)
    spans = sorted((n.start_byte, n.end_byte) for nodes in captures.values() for n in nodes)
    out, pos = [], 0
    for a, b in spans:
        if a < pos:
            continue
        out.append(data[pos:a])
        out.append(b"\n" * data[a:b].count(b"\n"))
        pos = b
    out.append(data[pos:])
    return split_lines(b"".join(out).decode("utf-8", "replace"))


def hunk_texts(old_lines: list[str], new_lines: list[str], hunk: Hunk) -> tuple[str, str]:
    return (
        "".join(old_lines[hunk.old_start : hunk.old_start + hunk.old_count]),
        "".join(new_lines[hunk.new_start : hunk.new_start + hunk.new_count]),
    )


def apply_hunks(old_lines: list[str], new_lines: list[str], hunks: list[Hunk] | tuple[Hunk, ...], upto: int) -> str:
    """The old file with the first `upto` hunks applied."""
    out: list[str] = []
    pos = 0
    for i, h in enumerate(hunks):
        out.extend(old_lines[pos : h.old_start])
        if i < upto:
            out.extend(new_lines[h.new_start : h.new_start + h.new_count])
        else:
            out.extend(old_lines[h.old_start : h.old_start + h.old_count])
        pos = h.old_start + h.old_count
    out.extend(old_lines[pos:])
    return "".join(out)


def char_edit(text: str, lines: list[str], replacement: list[str], hunk_start: int, hunk_count: int) -> tuple[int, str, str]:
    """The character-level edit of a hunk: (offset, removed, inserted) after trimming the common prefix and
    suffix inside the hunk. Whole inserted lines move one character left (Enter at the end of the line
    above, then typing), so the cursor ends at the end of the typed text."""
    base = sum(len(line) for line in lines[:hunk_start])
    old = "".join(lines[hunk_start : hunk_start + hunk_count])
    new = "".join(replacement)
    p = 0
    limit = min(len(old), len(new))
    while p < limit and old[p] == new[p]:
        p += 1
    s = 0
    while s < limit - p and old[len(old) - 1 - s] == new[len(new) - 1 - s]:
        s += 1
    pos, removed, inserted = base + p, old[p : len(old) - s], new[p : len(new) - s]
    if inserted.endswith("\n") and (not removed or removed.endswith("\n")) and pos > 0 and text[pos - 1] == "\n":
        pos -= 1
        removed = "\n" + removed[:-1] if removed else ""
        inserted = "\n" + inserted[:-1]
    return pos, removed, inserted


def typing_splits(inserted: str) -> list[int]:
    """Typed-prefix lengths: 30-70 % of the text, leaving at least 2 non-space characters to type."""
    n = len(inserted)
    lo, hi = (3 * n + 5) // 10, (7 * n + 5) // 10  # 30 % and 70 % of n, rounded half up
    return [k for k in range(max(1, lo), hi + 1) if len(_squash(inserted[k:])) >= 2]


def change_key(old_lines: list[str], new_lines: list[str], hunks: list[Hunk]) -> str:
    """Same key for the same change lines, whatever the numbers in them (cherry-picks, version bumps)."""
    parts = []
    for h in hunks:
        old, new = hunk_texts(old_lines, new_lines, h)
        parts.append(re.sub(r"\d+", "0", old) + "\x00" + re.sub(r"\d+", "0", new))
    return hashlib.sha1("\x01".join(parts).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# mining


@dataclass
class Miner:
    repo: Path
    languages: frozenset[str]
    skipped: Counter = field(default_factory=Counter)
    _seen: set[str] = field(default_factory=set)

    def language(self, path: str) -> str | None:
        from zeta2_capture.languages import language_for_path

        lang = language_for_path(path)
        if lang == "tsx":
            lang = "typescript"  # the data set's name; the TSX grammar is picked from the path
        return lang if lang in self.languages else None

    def candidates(self, rev: str = "HEAD", progress=None) -> Iterator[Candidate]:
        cat = CatFile(self.repo)
        try:
            for sha, date, files in walk_commits(self.repo, rev):
                if progress is not None:
                    progress.update()
                changed = sum(h.old_count + h.new_count for f in files for h in f.hunks)
                if len(files) > MAX_FILES_PER_COMMIT or changed > MAX_LINES_PER_COMMIT:
                    self.skipped["huge commit"] += 1
                    continue
                from zeta2_capture.languages import language_for_path

                # "isolated" looks at every source file of the commit, whatever --languages keeps
                n_sources = sum(1 for f in files if language_for_path(f.path))
                for change in (f for f in files if self.language(f.path)):
                    candidate = self._candidate(cat, sha, date, change, isolated=n_sources == 1)
                    if candidate is not None:
                        yield candidate
        finally:
            cat.close()

    def _candidate(self, cat: CatFile, sha: str, date: str, change: FileChange, *, isolated: bool) -> Candidate | None:
        def skip(reason: str) -> None:
            self.skipped[reason] += 1

        if change.status != "M" or change.binary or change.quoted or not change.hunks:
            return skip("not modified in place")
        reason = path_skip_reason(change.path)
        if reason:
            return skip(reason)
        hunks = change.hunks
        if len(hunks) > MAX_HUNKS:
            return skip("too many hunks")
        if sum(h.old_count + h.new_count for h in hunks) > MAX_CHANGED_LINES:
            return skip("too many changed lines")
        old_data, new_data = cat.read_many([change.old_sha, change.new_sha])
        old, reason = decode_source(old_data)
        if old is None:
            return skip(reason or "unreadable")
        new, reason = decode_source(new_data)
        if new is None:
            return skip(reason or "unreadable")
        old_lines, new_lines = split_lines(old), split_lines(new)
        if apply_hunks(old_lines, new_lines, hunks, len(hunks)) != new:
            return skip("hunks do not reproduce the commit")
        if _squash(old) == _squash(new):
            return skip("whitespace-only")
        language = self.language(change.path)
        assert language is not None
        # A repeat is skipped before the (costlier) comment check; only kept changes enter `_seen`,
        # so the result is the same as checking in the README's order.
        key = change_key(old_lines, new_lines, hunks)
        if key in self._seen:
            return skip("duplicate change")
        trivial = self._trivial_hunks(language, old, new, old_lines, new_lines, hunks)
        if all(trivial):
            return skip("comment-only")
        self._seen.add(key)
        multi = 2 <= len(hunks) <= MAX_HUNKS and not trivial[-1] and (
            hunks[-1].new_start + hunks[-1].new_count - hunks[0].new_start <= MULTI_SPAN_LINES
        )
        typable = False
        if len(hunks) == 1:
            h = hunks[0]
            _, _, inserted = char_edit(old, old_lines, new_lines[h.new_start : h.new_start + h.new_count], h.old_start, h.old_count)
            typable = len(_squash(inserted)) >= 8 and len(inserted) <= 1500 and bool(typing_splits(inserted))
        return Candidate(
            commit=sha,
            committed_at=date,
            path=change.path,
            language=language,
            old_sha=change.old_sha,
            new_sha=change.new_sha,
            hunks=tuple(hunks),
            multi=multi,
            isolated=isolated and len(hunks) == 1,
            typable=typable,
        )

    def _trivial_hunks(self, language: str, old: str, new: str, old_lines: list[str], new_lines: list[str], hunks: list[Hunk]) -> list[bool]:
        """Per hunk: whitespace-only, or the same code once comments (and docstrings) are cut out."""
        bare_old: list[str] | None = None
        bare_new: list[str] | None = None
        out = []
        for h in hunks:
            a, b = hunk_texts(old_lines, new_lines, h)
            if _squash(a) == _squash(b):
                out.append(True)
                continue
            if bare_old is None:
                bare_old, bare_new = strip_comments(language, old), strip_comments(language, new)
            assert bare_new is not None
            a, b = hunk_texts(bare_old, bare_new, h)
            out.append(_squash(a) == _squash(b))
        return out
