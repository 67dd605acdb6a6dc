"""`--help` works for `zeta2-trainer` and every subcommand it offers, quickly (no torch import needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from zeta2_trainer import cli

COMMANDS = sorted(cli.available_commands())


def test_top_level_help_lists_every_available_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out
    # The model stages this part owns are all there.
    assert {"train", "predict", "eval", "ab-report"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_subcommand_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: zeta2-trainer {command}")


def test_help_does_not_import_torch():
    """Heavy imports stay inside `main`: `--help` of the model stages never loads torch or transformers."""
    code = (
        "import sys; from zeta2_trainer import cli\n"
        "try:\n    cli.main(['train', '--help'])\nexcept SystemExit:\n    pass\n"
        "for m in ('zeta2_trainer.train', 'zeta2_trainer.predict', 'zeta2_trainer.evaluate', 'zeta2_trainer.abreport'):\n"
        "    assert m in sys.modules, m\n"
        "print(sorted(m for m in ('torch', 'transformers', 'peft', 'accelerate', 'matplotlib') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
