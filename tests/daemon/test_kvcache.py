"""Prefix KV reuse: an LRU with a byte cap, and exact answers when a request reuses an earlier prompt's KV."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from zeta2_capture.schema import read_examples
from zeta2_daemon.kvcache import PrefixCache, common_prefix
from zeta2_daemon.predictor import Predictor
from zeta2_daemon.runtime import KVState


def _state(tokens, nbytes_per_token=100):
    array = np.zeros((1, 1, len(tokens), nbytes_per_token // 4), dtype=np.float32)
    return KVState(arrays=[array], length=len(tokens), physical=len(tokens), tokens=list(tokens))


def test_common_prefix():
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([5], [6]) == 0


def test_lookup_finds_the_longest_shared_prefix_of_that_document():
    cache = PrefixCache(max_bytes=1 << 20, per_document=2)
    cache.store("a", _state([1, 2, 3, 4]))
    cache.store("a", _state([1, 2, 9]))
    cache.store("b", _state([1, 2, 3, 4, 5]))
    state, shared = cache.lookup("a", [1, 2, 3, 7])
    assert shared == 3 and state.tokens == [1, 2, 3, 4]
    assert cache.lookup("c", [1, 2]) == (None, 0)
    assert cache.stats.hits == 1 and cache.stats.reused_tokens == 3


def test_per_document_limit_and_supersede():
    cache = PrefixCache(max_bytes=1 << 20, per_document=2)
    cache.store("a", _state([1]))
    cache.store("a", _state([2]))
    cache.store("a", _state([3]))
    assert len(cache) == 2 and cache.lookup("a", [1])[1] == 0
    cache.store("a", _state([3, 4]))  # extends [3]: replaces it
    assert sorted(s.tokens for (s, _) in cache._entries.values()) == [[2], [3, 4]]


def test_byte_cap_evicts_least_recently_used():
    cache = PrefixCache(max_bytes=2500, per_document=4)
    for doc in "abc":
        cache.store(doc, _state(list(range(10))))  # 1000 bytes each
    assert cache.nbytes <= 2500 and len(cache) == 2
    assert cache.lookup("a", list(range(10)))[0] is None  # the oldest went
    cache.lookup("b", [0])  # b is now the most recent
    cache.store("d", _state(list(range(10))))
    assert cache.lookup("c", [0])[0] is None and cache.lookup("b", [0])[0] is not None
    cache.store("e", _state(list(range(100))))  # larger than the cap: not kept
    assert cache.lookup("e", [0])[0] is None
    cache.forget("b")
    assert cache.lookup("b", [0])[0] is None


def test_reused_prefix_gives_the_same_answer(tiny_pack, tiny_pack_builder):
    tp = tiny_pack_builder
    predictor = Predictor(tiny_pack, threads=1)
    fresh = Predictor(tiny_pack, threads=1)
    for ex in tp.canonical_examples():
        first = predictor.predict(ex)
        again = predictor.predict(ex)
        assert again.prefix_tokens_reused == again.prompt_tokens - 1
        assert again.output_tokens == first.output_tokens
        assert first.predicted == ex.expected
    # Another document's cache is never used.
    other = dataclasses.replace(ex, path="elsewhere/" + ex.path)
    assert predictor.predict(other).prefix_tokens_reused == 0
    assert fresh.predict(ex, reuse_prefix=False).output_tokens == first.output_tokens


def test_one_character_edit_recomputes_only_from_the_first_differing_token(tiny_pack, dev_jsonl):
    """Typing one character in long files: the KV of every token before the first difference is reused.

    How much that is depends on the prompt layout (stable parts first): the share is asserted loosely
    here and reported in docs/benchmarks.md ("Runtime").
    """
    from zeta2_daemon.kvcache import common_prefix

    predictor = Predictor(tiny_pack, threads=1)
    fresh = Predictor(tiny_pack, threads=1)
    longs = [ex for ex in itertools.islice(read_examples(dev_jsonl), 0, 400, 3) if len(predictor.render(ex).token_ids) >= 1500][:6]
    assert len(longs) == 6
    shares = []
    for ex in longs:
        first = predictor.predict(ex)
        typed = dataclasses.replace(ex, before=ex.before[: ex.cursor] + "x" + ex.before[ex.cursor :], cursor=ex.cursor + 1)
        second = predictor.predict(typed)
        shared = common_prefix(first.prompt.token_ids, second.prompt.token_ids)
        assert second.prefix_tokens_reused == shared
        shares.append(shared / second.prompt_tokens)
        assert fresh.predict(typed, reuse_prefix=False).output_tokens == second.output_tokens
    assert sorted(shares)[len(shares) // 2] >= 0.5, shares
