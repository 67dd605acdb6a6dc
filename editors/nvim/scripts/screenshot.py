"""Takes docs/nvim-screenshot.png: a real nvim in a tmux pane, attached to zeta2-daemon, after typing
a scripted session, captured with colours and rendered to PNG.

    python editors/nvim/scripts/screenshot.py --session python-rename-parameter \
        --out docs/nvim-screenshot.png -- .venv/bin/zeta2-daemon --model PACK_DIR

Needs tmux, the nvim from the project's venv, Pillow and the DejaVu fonts. Waits on conditions (the
suggestion is shown and drawn on the pane), with a timeout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent
sys.path.insert(0, str(REPO / "tests" / "editors"))
sys.path.insert(0, str(HERE))

INIT = r"""
vim.opt.runtimepath:prepend(%(plugin)s)
vim.o.termguicolors = true
vim.o.number = true
vim.o.signcolumn = "yes"
vim.o.swapfile = false
vim.o.showmode = true
vim.o.laststatus = 2
vim.cmd("filetype indent off")
vim.o.autoindent = false
local zeta2 = require("zeta2")
zeta2.setup({ cmd = vim.json.decode(%(cmd)s), debounce_ms = 50 })
local typed, done = false, false
local timer = vim.uv.new_timer()
timer:start(20, 20, vim.schedule_wrap(function()
  local buf = vim.api.nvim_get_current_buf()
  local client = vim.lsp.get_clients({ bufnr = buf, name = "zeta2" })[1]
  local state = zeta2.buffers[buf]
  if not typed and client and zeta2.status[client.id] and state then
    typed = true
    vim.api.nvim_input(%(keys)s)
  elseif typed and not done and state and state.suggestion then
    done = true
    vim.fn.writefile({ state.suggestion.edit.text }, %(flag)s)
  end
end))
"""


def lua_str(s: str) -> str:
    return json.dumps(s)


def main(argv: list[str] | None = None) -> int:
    from ansi_to_png import parse, render
    from nvim_sessions import load_session, typing_keys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--session", default="python-rename-parameter")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "nvim-screenshot.png")
    parser.add_argument("--nvim", default=str(REPO / ".venv" / "bin" / "nvim"))
    parser.add_argument("--cols", type=int, default=92)
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("daemon", nargs="+", help="the daemon command line")
    args = parser.parse_args(argv)
    if not shutil.which("tmux"):
        raise SystemExit("screenshot: tmux is not installed (apt-get install tmux)")

    session = load_session(args.session)
    work = Path(tempfile.mkdtemp(prefix="zeta2-shot-"))
    ws = work / "ws"
    (ws / ".git").mkdir(parents=True)
    file = ws / session["path"]
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(session["initial"])
    flag = work / "shown"
    init = work / "init.lua"
    init.write_text(
        INIT
        % {
            "plugin": lua_str(str(REPO / "editors" / "nvim")),
            "cmd": lua_str(json.dumps(args.daemon)),
            "keys": lua_str(typing_keys(session)),
            "flag": lua_str(str(flag)),
        }
    )
    name = f"zeta2-shot-{int(time.time())}"
    tmux = ["tmux", "-L", name]
    subprocess.run(
        [*tmux, "-f", "/dev/null", "new-session", "-d", "-s", name, "-x", str(args.cols), "-y", str(args.rows),
         "-e", "TERM=tmux-256color", "-e", f"XDG_STATE_HOME={work / 'state'}", "-c", str(ws),
         f"{args.nvim} --clean -u {init} {file.relative_to(ws)}"],
        check=True,
    )  # fmt: skip
    try:
        subprocess.run([*tmux, "set-option", "-g", "-s", "terminal-overrides", ",*:RGB"], check=False)
        deadline = time.monotonic() + args.timeout
        while not flag.exists():
            if time.monotonic() > deadline:
                raise SystemExit("screenshot: no suggestion was shown before the timeout")
            time.sleep(0.1)
        wanted = flag.read_text().strip().splitlines()[0]
        while True:  # the suggestion is drawn once the pane shows its text
            capture = subprocess.run(
                [*tmux, "capture-pane", "-p", "-e", "-t", name], capture_output=True, text=True
            ).stdout
            plain = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", name], capture_output=True, text=True
            ).stdout
            if wanted in plain:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"screenshot: the pane never showed {wanted!r}:\n{plain}")
            time.sleep(0.1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        render(parse(capture), args.out, args.cols, 15)
        (work / "capture.txt").write_text(capture)
        print(f"screenshot: wrote {args.out} (pane text in {work / 'capture.txt'})")
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
