"""Which tokens may come next in a zeta2-markers answer, so constrained decoding never leaves the format.

An answer is `<|marker_i|> new text <|marker_j|><|edit_end|>` with i <= j <= the region's last marker;
"no edit" is the same marker twice. The grammar is a tiny state machine over token ids:

    start ──marker i──▶ open(i) ──text──▶ open(i) ──marker j ≥ i──▶ closed ──edit_end──▶ (stop)

At `start` only the region's markers may come; in `open(i)` anything but the format's other special
tokens, the end token and markers before i; at `closed` only the end token. A model that would leave the
format gets its best allowed token instead, so an answer that ends parses — what is left to fail is an
answer cut off by the token cap.

The grammar also names the one choice that is policy rather than syntax: right after the opening
marker, repeating it means "no edit" (`noop_token`), so a decoder can ask for a minimum probability
before it settles for no edit (a model unsure between no edit and an edit then shows the edit).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

START = -1  # no answer token yet
CLOSED = -2  # the closing marker came; only the end token may follow
DONE = -3  # the end token came


@dataclass(frozen=True)
class Allowed:
    """Tokens allowed next: exactly `only` when it is set, otherwise everything but `banned`."""

    only: frozenset[int] | None = None
    banned: frozenset[int] = frozenset()

    def __contains__(self, token: int) -> bool:
        if self.only is not None:
            return token in self.only
        return token not in self.banned


class AnswerGrammar:
    """The answer grammar for one rendered prompt (its region has `n_blocks` blocks: markers 0..n_blocks)."""

    def __init__(self, marker_ids: Sequence[int], end_id: int, special_ids: Iterable[int], n_blocks: int, extra_stops: Iterable[int] = ()):
        if n_blocks + 1 > len(marker_ids):
            raise ValueError(f"a region of {n_blocks} blocks needs {n_blocks + 1} markers, the token map has {len(marker_ids)}")
        self.markers = tuple(marker_ids[: n_blocks + 1])
        self._marker_index = {token: i for i, token in enumerate(self.markers)}
        self.end_id = end_id
        forbidden_inside = frozenset(special_ids) | frozenset(extra_stops) | {end_id} | frozenset(marker_ids)
        # In open(i) the closing markers i..n are the only special tokens allowed.
        self._open = [Allowed(banned=forbidden_inside - frozenset(self.markers[i:])) for i in range(len(self.markers))]
        self._start = Allowed(only=frozenset(self.markers))
        self._closed = Allowed(only=frozenset({end_id}))
        self._done = Allowed(only=frozenset())

    @classmethod
    def for_prompt(cls, renderer, prompt) -> AnswerGrammar:
        """The grammar of `prompt` (a RenderedPrompt) under `renderer`'s token map."""
        stops = [renderer.eos_token_id] if renderer.eos_token_id is not None else []
        return cls(renderer.marker_ids, renderer.end_token_id, renderer.special_token_ids, prompt.layout.n_blocks, stops)

    # A state is START, CLOSED, DONE, or the opening marker's index i >= 0 (open(i)).
    def advance(self, state: int, token: int) -> int:
        if state == START:
            return self._marker_index.get(token, DONE)  # a non-marker cannot start an answer
        if state >= 0:
            j = self._marker_index.get(token)
            if j is not None and j >= state:
                return CLOSED
            return DONE if token == self.end_id else state
        return DONE

    def state_after(self, tokens: Sequence[int], state: int = START) -> int:
        for token in tokens:
            state = self.advance(state, token)
        return state

    def allowed(self, state: int) -> Allowed:
        if state == START:
            return self._start
        if state == CLOSED:
            return self._closed
        if state == DONE:
            return self._done
        return self._open[state]

    def noop_token(self, state: int, answer_length: int) -> int | None:
        """The token that would mean "no edit" here (the opening marker again), or None if none would."""
        if state >= 0 and answer_length == 1:
            return self.markers[state]
        return None
