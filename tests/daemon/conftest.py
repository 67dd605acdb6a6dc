"""Fixtures shared by the daemon's decoding tests."""

from __future__ import annotations

import pytest

from zeta2_capture.prompt import PromptConfig, Renderer
from zeta2_daemon.pack import load_pack
from zeta2_daemon.runtime import Runtime


@pytest.fixture(scope="module")
def tiny(tiny_pack):
    """(runtime, renderer, stop ids) of the tiny test pack, prompts at a 512-token budget."""
    pack = load_pack(tiny_pack)
    runtime = Runtime(pack.model_path, threads=1)
    renderer = Renderer(pack.load_tokenizer(), pack.family, PromptConfig(max_prompt_tokens=512))
    stops = {renderer.end_token_id, renderer.eos_token_id}
    return runtime, renderer, stops
