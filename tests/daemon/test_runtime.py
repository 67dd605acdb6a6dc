"""The onnxruntime session: provider choice, multi-token forwards with a past, rollback by truncation."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from zeta2_daemon.runtime import ModelLoadError, Runtime, default_threads


@pytest.fixture(scope="module")
def runtime(tiny_pack):
    return Runtime(tiny_pack / "model.onnx", threads=1)


def _ids(n, seed=0):
    return [int(x) for x in np.random.default_rng(seed).integers(0, 49000, n)]


def test_cpu_runtime_describes_itself(runtime):
    info = runtime.describe()
    assert info["device"] == "cpu" and info["providers"] == ["CPUExecutionProvider"]
    assert info["threads"] == 1 and info["layers"] == 2
    assert runtime.has_logits_to_keep and runtime.has_argmax and runtime.has_position_ids


def test_default_threads_leave_a_core():
    assert 1 <= default_threads() <= 8


def test_cuda_demanded_without_a_cuda_provider(tiny_pack):
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has a CUDA provider")
    with pytest.raises(ModelLoadError, match="CUDA was asked for, but this onnxruntime has no CUDA provider"):
        Runtime(tiny_pack / "model.onnx", device="cuda")


def test_auto_uses_what_really_loaded(tiny_pack):
    rt = Runtime(tiny_pack / "model.onnx", device="auto", threads=1)
    assert rt.device == ("cuda" if rt.session.get_providers()[0] == "CUDAExecutionProvider" else "cpu")


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelLoadError, match=r"model.onnx: missing"):
        Runtime(tmp_path / "model.onnx")


def test_not_a_decoder_with_past(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), tmp_path / "m.onnx")
    with pytest.raises(ModelLoadError, match=r"m.onnx: input 'input_ids' is missing; not a decoder-with-past export"):
        Runtime(tmp_path / "m.onnx")


def test_several_tokens_at_once_match_one_by_one(runtime):
    ids = _ids(40)
    bulk = runtime.forward(ids, runtime.empty_cache())
    assert bulk.logits.shape[0] == 40
    cache = runtime.empty_cache()
    rows = []
    for t in ids:
        step = runtime.forward([t], cache)
        cache = step.cache
        rows.append(step.logits[-1])
    np.testing.assert_allclose(np.stack(rows), bulk.logits, rtol=1e-4, atol=1e-4)
    assert cache.length == 40 and cache.tokens == ids


def test_keep_returns_only_the_last_positions(runtime):
    ids = _ids(30, seed=1)
    full = runtime.forward(ids, runtime.empty_cache())
    last = runtime.forward(ids, runtime.empty_cache(), keep=3)
    assert last.logits.shape[0] == 3
    np.testing.assert_allclose(last.logits, full.logits[-3:], rtol=1e-5, atol=1e-5)
    assert list(last.next_ids) == list(full.logits[-3:].argmax(-1))


def test_truncate_rolls_back_exactly(runtime):
    ids = _ids(50, seed=2)
    first = runtime.forward(ids[:30], runtime.empty_cache())
    grown = runtime.forward(ids[30:45], first.cache)  # 15 tokens, pretend 10 of them were rejected
    rolled = runtime.truncate(grown.cache, 35)
    assert rolled.length == 35 and rolled.tokens == ids[:35]
    after = runtime.forward(ids[35:50], rolled)
    straight = runtime.forward(ids, runtime.empty_cache())
    np.testing.assert_allclose(after.logits, straight.logits[35:], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError):
        runtime.truncate(grown.cache, -1)


def test_forward_needs_a_token(runtime):
    with pytest.raises(ValueError, match="at least one token"):
        runtime.forward([], runtime.empty_cache())
