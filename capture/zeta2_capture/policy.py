"""Who may be captured: opt-in, licenses, git-ignored and secret-looking files (brief §5).

    policy = CapturePolicy(root, session_enabled=None)   # None: follow `zeta2-capture enable|disable`
    policy.enabled -> bool                                # the daemon's per-session setting wins
    policy.eligible(path) -> Decision(eligible, reasons, license)
    policy.check_example(example) -> Decision             # cursor file, every event's and related file
    find_workspace_root(path) -> Path                     # nearest folder with .git, else with a license

Every decision carries human-readable reasons (`zeta2-capture explain FILE` prints them). A file is
eligible only when ALL of these hold: it lies inside the workspace root; the root holds an eligible
license text (see `licenses`); git does not ignore it (`git check-ignore`, or the workspace's
`.gitignore` files through pathspec outside a git repository); its name does not look like a secret
(`.env*`, `*.pem`, `*.key`, `id_*`, credentials, …). Eligibility does not depend on `enabled`: a
file can be eligible while capture is off, and `explain` says both.
"""

from __future__ import annotations

import fnmatch
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pathspec

from zeta2_capture.config import load_config
from zeta2_capture.licenses import license_files, workspace_license
from zeta2_capture.schema import Example

IGNORE_CACHE_SECONDS = 30.0  # git answers are cached per file this long (.gitignore edits show up after)
SECRET_FILE_PATTERNS = (
    ".env", ".env.*", "*.env", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx",
    "id_*", "*credentials*", "*secret*", ".netrc", ".npmrc", ".pypirc", ".htpasswd", "*.ovpn", ".git-credentials",
)


@dataclass(frozen=True)
class Decision:
    eligible: bool
    reasons: tuple[str, ...]
    license: tuple[str, ...] = field(default=())

    def explain(self) -> str:
        head = "eligible" if self.eligible else "not eligible"
        return head + ":\n" + "\n".join(f"  - {r}" for r in self.reasons)


def is_secret_looking(path: str) -> str | None:
    """The pattern a file name matches when it looks like it holds secrets, else None."""
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    for pattern in SECRET_FILE_PATTERNS:
        if fnmatch.fnmatchcase(name, pattern):
            if pattern == "id_*" and name.endswith(".pub"):
                continue  # public keys are not secrets
            return pattern
    return None


def find_workspace_root(path: str | Path) -> Path:
    p = Path(path).resolve()
    folders = [p] if p.is_dir() else []
    folders += list(p.parents)
    for folder in folders:
        if (folder / ".git").exists():
            return folder
    for folder in folders:
        if license_files(folder):
            return folder
    return p if p.is_dir() else p.parent


class CapturePolicy:
    def __init__(self, root: str | Path, *, session_enabled: bool | None = None):
        self.root = Path(root).resolve()
        self.session_enabled = session_enabled
        self._git: bool | None = None
        self._ignore_cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """The session's setting when the editor gave one, else the user's saved setting."""
        if self.session_enabled is not None:
            return self.session_enabled
        return load_config().capture

    def _relative(self, path: str | Path) -> str | None:
        p = Path(path)
        if not p.is_absolute():
            p = self.root / p
        try:
            return p.resolve().relative_to(self.root).as_posix()
        except (ValueError, OSError):
            return None

    def _is_git(self) -> bool:
        if self._git is None:
            try:
                done = subprocess.run(
                    ["git", "-C", str(self.root), "rev-parse", "--is-inside-work-tree"],
                    capture_output=True, text=True, timeout=10,
                )
                self._git = done.returncode == 0 and done.stdout.strip() == "true"
            except (OSError, subprocess.TimeoutExpired):
                self._git = False
        return self._git

    def ignored_by(self, rel: str) -> str | None:
        """Why git ignores `rel` ('.gitignore:3:*.log'), or None when it does not."""
        now = time.monotonic()
        with self._lock:
            hit = self._ignore_cache.get(rel)
            if hit is not None and now - hit[0] < IGNORE_CACHE_SECONDS:
                return hit[1]
        reason: str | None = None
        if self._is_git():
            try:
                done = subprocess.run(
                    ["git", "-C", str(self.root), "check-ignore", "-v", "--", rel],
                    capture_output=True, text=True, timeout=10,
                )
                if done.returncode == 0:
                    reason = done.stdout.strip().split("\t")[0] or "git check-ignore"
            except (OSError, subprocess.TimeoutExpired):
                reason = None
        else:
            parts = rel.split("/")
            for depth in range(len(parts)):
                base = self.root.joinpath(*parts[:depth])
                gitignore = base / ".gitignore"
                if not gitignore.is_file():
                    continue
                lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
                spec = pathspec.GitIgnoreSpec.from_lines(lines)
                sub = "/".join(parts[depth:])
                if spec.match_file(sub):
                    reason = f"{gitignore.relative_to(self.root).as_posix()} (pathspec)"
                    break
        with self._lock:
            self._ignore_cache[rel] = (now, reason)
        return reason

    def eligible(self, path: str | Path) -> Decision:
        reasons: list[str] = []
        ok = True
        rel = self._relative(path)
        if rel is None:
            return Decision(False, (f"{path} is outside the workspace {self.root}",))
        lic = workspace_license(self.root)
        if lic.eligible:
            reasons.append(f"workspace {self.root} is {lic.reason}")
        else:
            ok = False
            reasons.append(f"workspace {self.root}: {lic.reason}")
        ignored = self.ignored_by(rel)
        if ignored:
            ok = False
            reasons.append(f"{rel} is ignored by git ({ignored})")
        else:
            reasons.append(f"{rel} is not ignored by git")
        secret = is_secret_looking(rel)
        if secret:
            ok = False
            reasons.append(f"{rel} looks like a secrets file (matches {secret})")
        else:
            reasons.append(f"{rel} does not look like a secrets file")
        return Decision(ok, tuple(reasons), lic.spdx)

    def check_example(self, example: Example) -> Decision:
        """Eligible only when the cursor file, every event's file and every related file are."""
        paths = [example.path, *(e.path for e in example.events), *(r.path for r in example.related)]
        reasons: list[str] = []
        ok = True
        license_ids: tuple[str, ...] = ()
        for p in dict.fromkeys(paths):
            decision = self.eligible(p)
            license_ids = license_ids or decision.license
            if not decision.eligible:
                ok = False
                reasons.extend(r for r in decision.reasons if "not ignored" not in r and "does not look" not in r)
        if ok:
            reasons.append(f"{len(set(paths))} file(s) eligible")
        return Decision(ok, tuple(dict.fromkeys(reasons)), license_ids)
