"""Opt-in policy: license texts, git-ignored and secret-looking files, explanations."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from zeta2_capture.config import CaptureConfig, load_config, save_config
from zeta2_capture.licenses import identify_license, workspace_license
from zeta2_capture.policy import CapturePolicy, find_workspace_root, is_secret_looking
from zeta2_capture.schema import Event, Example, Related

LICENSES = Path(__file__).resolve().parent / "fixtures" / "licenses"


@pytest.mark.parametrize(
    "name, spdx, eligible",
    [
        ("MIT.txt", "MIT", True),
        ("Apache-2.0.txt", "Apache-2.0", True),
        ("BSD-3-Clause-Regents.txt", "BSD-3-Clause", True),
        ("ISC.txt", "ISC", True),
        ("MIT-modified.txt", "MIT", False),
        ("GPL-3.0.txt", "GPL-3.0", False),
    ],
)
def test_license_texts(name, spdx, eligible):
    match = identify_license((LICENSES / name).read_text())
    assert (match.spdx, match.eligible) == (spdx, eligible), match.reason


def test_modified_mit_says_what_was_added():
    match = identify_license((LICENSES / "MIT-modified.txt").read_text())
    assert "added terms" in match.reason and "good not evil" in match.reason


def test_a_license_named_file_without_a_license_text_is_not_enough(tmp_path):
    (tmp_path / "LICENSE").write_text("MIT\n")
    lic = workspace_license(tmp_path)
    assert not lic.eligible and "not a recognised open-source license text" in lic.reason


def repo(tmp_path, *licenses: tuple[str, str]) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for target, source in licenses:
        shutil.copy(LICENSES / source, root / target)
    (root / "src").mkdir()
    (root / "src" / "main.py").write_text("print('hi')\n")
    return root


def test_dual_mit_apache_repo_is_eligible(tmp_path):
    root = repo(tmp_path, ("LICENSE-MIT", "MIT.txt"), ("LICENSE-APACHE", "Apache-2.0.txt"))
    decision = CapturePolicy(root).eligible(root / "src" / "main.py")
    assert decision.eligible and set(decision.license) == {"MIT", "Apache-2.0"}
    assert "MIT (LICENSE-MIT)" in decision.reasons[0] and "Apache-2.0 (LICENSE-APACHE)" in decision.reasons[0]


@pytest.mark.parametrize("license_file, why", [("GPL-3.0.txt", "GPL-3.0 is not an eligible license"), ("MIT-modified.txt", "added terms")])
def test_ineligible_licenses_explain_why(tmp_path, license_file, why):
    root = repo(tmp_path, ("LICENSE", license_file))
    decision = CapturePolicy(root).eligible("src/main.py")
    assert not decision.eligible and why in decision.explain()


def test_mit_plus_gpl_copying_is_not_eligible(tmp_path):
    root = repo(tmp_path, ("LICENSE", "MIT.txt"), ("COPYING", "GPL-3.0.txt"))
    assert not CapturePolicy(root).eligible("src/main.py").eligible


def test_no_license_at_all(tmp_path):
    root = repo(tmp_path)
    decision = CapturePolicy(root).eligible("src/main.py")
    assert not decision.eligible and "no license file" in decision.reasons[0]


def test_git_ignored_files_are_excluded_by_git_itself(tmp_path):
    root = repo(tmp_path, ("LICENSE", "MIT.txt"))
    (root / ".gitignore").write_text("build/\n*.log.py\n")
    (root / "build").mkdir()
    (root / "build" / "gen.py").write_text("x = 1\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    policy = CapturePolicy(root)
    assert policy.eligible("src/main.py").eligible
    decision = policy.eligible("build/gen.py")
    assert not decision.eligible and "ignored by git (.gitignore:1:build/)" in decision.explain()
    assert not policy.eligible(root / "debug.log.py").eligible


def test_outside_the_workspace(tmp_path):
    root = repo(tmp_path, ("LICENSE", "MIT.txt"))
    decision = CapturePolicy(root).eligible(tmp_path / "elsewhere.py")
    assert not decision.eligible and "outside the workspace" in decision.reasons[0]


@pytest.mark.parametrize("name", [".env", ".env.local", "prod.env", "server.pem", "tls.key", "id_rsa", "id_ed25519",
                                  "aws_credentials.json", "client_secret.json", ".netrc", ".npmrc"])
def test_secret_looking_files(tmp_path, name):
    assert is_secret_looking(name)
    root = repo(tmp_path, ("LICENSE", "MIT.txt"))
    (root / name).write_text("x")
    decision = CapturePolicy(root).eligible(name)
    assert not decision.eligible and "looks like a secrets file" in decision.explain()


def test_ordinary_names_are_not_secret_looking():
    for name in ("main.py", "keyboard.ts", "id.go", "id_rsa.pub", "environment.rs", "monkey.js"):
        assert is_secret_looking(name) is None, name


def test_every_file_of_an_example_must_be_eligible(tmp_path):
    root = repo(tmp_path, ("LICENSE", "MIT.txt"))
    (root / ".env").write_text("TOKEN=x\n")
    policy = CapturePolicy(root)
    ok = Example("e", "src/main.py", "python", "x", 0, events=(Event("src/main.py", "d"),))
    assert policy.check_example(ok).eligible
    bad_event = Example("e", "src/main.py", "python", "x", 0, events=(Event(".env", "d"),))
    assert not policy.check_example(bad_event).eligible
    bad_related = Example("e", "src/main.py", "python", "x", 0, related=(Related("../other/x.py", 0, "t"),))
    assert not policy.check_example(bad_related).eligible


def test_enabled_follows_config_and_the_session_setting_wins(tmp_path, data_dir):
    root = repo(tmp_path, ("LICENSE", "MIT.txt"))
    assert CapturePolicy(root).enabled is False  # off by default
    save_config(CaptureConfig(capture=True))
    assert load_config().capture and CapturePolicy(root).enabled is True
    assert CapturePolicy(root, session_enabled=False).enabled is False
    save_config(CaptureConfig(capture=False))
    assert CapturePolicy(root, session_enabled=True).enabled is True


def test_workspace_root_is_the_git_root(tmp_path):
    root = repo(tmp_path, ("LICENSE", "MIT.txt"))
    assert find_workspace_root(root / "src" / "main.py") == root.resolve()  # by license file
    subprocess.run(["git", "init", "-q", str(root / "src")], check=True)
    assert find_workspace_root(root / "src" / "main.py") == (root / "src").resolve()
