"""Prefix KV reuse across requests: the prompt caches of recent requests, per document, in a byte-capped LRU.

Consecutive keystrokes render prompts whose stable parts (related definitions, file context) come first,
so a new request shares a long token prefix with the last one. The decoder then recomputes only from the
first differing token. Entries are immutable KVStates (the runtime never writes into an array it was
given), so handing one out costs nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .runtime import KVState


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    x = np.asarray(a[:n], dtype=np.int64)
    y = np.asarray(b[:n], dtype=np.int64)
    diff = np.flatnonzero(x != y)
    return int(diff[0]) if len(diff) else n


@dataclass
class CacheStats:
    lookups: int = 0
    hits: int = 0
    reused_tokens: int = 0
    evictions: int = 0


class PrefixCache:
    """Up to `per_document` prompt caches per document key, all together at most `max_bytes`."""

    def __init__(self, max_bytes: int = 256 << 20, per_document: int = 2):
        if max_bytes < 0 or per_document < 1:
            raise ValueError("PrefixCache needs max_bytes >= 0 and per_document >= 1")
        self.max_bytes = max_bytes
        self.per_document = per_document
        self._entries: OrderedDict[tuple[str, int], tuple[KVState, int]] = OrderedDict()
        self._serial = 0
        self._bytes = 0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, document: str, tokens: Sequence[int]) -> tuple[KVState | None, int]:
        """The cached state sharing the longest prefix with `tokens` for this document, and that prefix length."""
        with self._lock:
            self.stats.lookups += 1
            best, best_len, best_key = None, 0, None
            for key, (state, _) in self._entries.items():
                if key[0] != document:
                    continue
                shared = common_prefix(state.tokens, tokens)
                if shared > best_len:
                    best, best_len, best_key = state, shared, key
            if best_key is not None:
                self._entries.move_to_end(best_key)
                self.stats.hits += 1
                self.stats.reused_tokens += best_len
            return best, best_len

    def store(self, document: str, state: KVState) -> None:
        """Keeps `state` (whose `tokens` are the prompt) as the newest entry of `document`."""
        size = state.nbytes()
        with self._lock:
            # A state whose tokens extend or equal an older entry's supersedes it.
            for key in [k for k, (s, _) in self._entries.items() if k[0] == document]:
                old = self._entries[key][0]
                if common_prefix(old.tokens, state.tokens) == len(old.tokens):
                    self._drop(key)
            mine = [k for k in self._entries if k[0] == document]
            while len(mine) >= self.per_document:
                self._drop(mine.pop(0))
            if size > self.max_bytes:
                return
            self._serial += 1
            self._entries[(document, self._serial)] = (state, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))
                self.stats.evictions += 1

    def forget(self, document: str) -> None:
        """Drops a document's entries (the editor closed it)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == document]:
                self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: tuple[str, int]) -> None:
        _, size = self._entries.pop(key)
        self._bytes -= size
