#!/usr/bin/env bash
# The project's whole test suite: Python (capture, daemon, trainer, Neovim plugin in a real nvim),
# then the VS Code extension's compile and unit tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
.venv/bin/python -m pytest "$@"
if [ -f editors/vscode/package.json ] && [ $# -eq 0 ]; then
    (cd editors/vscode && npm run --silent compile && npm test)
fi
