"""Golden files pin the rendered prompt and target of the format's current version.

A change to what `zeta2_capture.prompt` renders fails here until FORMAT_VERSION goes up: a model pack
stamped with the old version must never be served prompts in a new shape. Regenerate after a bump with

    ZETA2_UPDATE_GOLDEN=1 scripts/test.sh tests/capture/test_prompt_golden.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from zeta2_capture.prompt import FORMAT_NAME, FORMAT_VERSION, OutOfRegion, Renderer
from zeta2_capture.schema import read_examples

HERE = Path(__file__).parent
GOLDEN = HERE / "golden" / f"{FORMAT_NAME}-v{FORMAT_VERSION}"
UPDATE = os.environ.get("ZETA2_UPDATE_GOLDEN") == "1"
BUMP = (
    f"the prompt format changed but FORMAT_VERSION is still {FORMAT_VERSION}: bump it in "
    "capture/zeta2_capture/prompt.py and regenerate the goldens (ZETA2_UPDATE_GOLDEN=1)"
)
# Every 8th dev example, by position: a spread of kinds and both dev languages.
DEV_STRIDE = 8


@pytest.fixture(scope="module")
def renderer(smollm2_tokenizer_json) -> Renderer:
    return Renderer.from_file(smollm2_tokenizer_json, "smollm2")


def check(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: {BUMP}")
    with open(path, encoding="utf-8", newline="") as f:
        assert f.read() == text, BUMP


EXAMPLES = list(read_examples(HERE / "fixtures" / "prompt_examples.jsonl"))


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id.split("/")[-1] for e in EXAMPLES])
def test_handwritten_examples_match_their_golden_files(renderer, example):
    prompt = renderer.render_prompt(example)
    target = renderer.render_target(prompt, example.expected)
    assert not isinstance(target, OutOfRegion)
    name = example.id.split("/")[-1]
    check(GOLDEN / f"{name}.prompt.txt", prompt.text)
    check(GOLDEN / f"{name}.target.txt", target.text)
    check(GOLDEN / f"{name}.token_ids.json", json.dumps(prompt.token_ids + target.token_ids) + "\n")


def test_dev_examples_match_their_golden_hashes(renderer, dev_jsonl):
    """Real examples pinned by hash only: the shared data's text never enters the repository."""
    hashes = {}
    for n, example in enumerate(read_examples(dev_jsonl)):
        if n % DEV_STRIDE:
            continue
        prompt = renderer.render_prompt(example)
        target = renderer.render_target(prompt, example.expected)
        answer = target.reason if isinstance(target, OutOfRegion) else target.text
        hashes[example.id] = hashlib.sha256((prompt.text + "\0" + answer).encode()).hexdigest()
    check(GOLDEN / "dev-hashes.json", json.dumps(hashes, indent=1, sort_keys=True) + "\n")
