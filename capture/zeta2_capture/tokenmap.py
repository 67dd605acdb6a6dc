"""Special tokens of the prompt format, named per base-model family.

Adding a family is one table entry: the tokens are added to the family's tokenizer (and their embeddings
to the model) at fine-tuning, and `load_tokenizer` adds them to a plain tokenizer.json so a base model's
tokenizer renders the same ids the fine-tuned model was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tokenizers import AddedToken, Tokenizer

MAX_MARKERS = 32  # markers 0..31: at most 31 blocks in an editable region


@dataclass(frozen=True)
class TokenMap:
    """The format's special tokens for one base-model family."""

    family: str
    markers: tuple[str, ...]
    cursor: str
    end: str
    related: str
    file: str
    region_gap: str
    history: str
    last_edit: str
    diagnostics: str
    region: str
    answer: str
    # The base model's own end-of-text token: also a stop token when decoding.
    eos: str

    @property
    def special_tokens(self) -> tuple[str, ...]:
        """Every token the format adds to the family's tokenizer, in a fixed order."""
        return (
            *self.markers,
            self.cursor,
            self.end,
            self.related,
            self.file,
            self.region_gap,
            self.history,
            self.last_edit,
            self.diagnostics,
            self.region,
            self.answer,
        )

    def marker(self, index: int) -> str:
        return self.markers[index]

    def to_json(self) -> dict[str, object]:
        return {
            "family": self.family,
            "markers": list(self.markers),
            "cursor": self.cursor,
            "end": self.end,
            "related": self.related,
            "file": self.file,
            "region_gap": self.region_gap,
            "history": self.history,
            "last_edit": self.last_edit,
            "diagnostics": self.diagnostics,
            "region": self.region,
            "answer": self.answer,
            "eos": self.eos,
        }


def _chatml_style(family: str, eos: str) -> TokenMap:
    return TokenMap(
        family=family,
        markers=tuple(f"<|marker_{i}|>" for i in range(MAX_MARKERS)),
        cursor="<|user_cursor|>",
        end="<|edit_end|>",
        related="<|related|>",
        file="<|file|>",
        region_gap="<|region_gap|>",
        history="<|history|>",
        last_edit="<|last_edit|>",
        diagnostics="<|diagnostics|>",
        region="<|editable_region|>",
        answer="<|answer|>",
        eos=eos,
    )


TOKEN_MAPS: dict[str, TokenMap] = {
    # SmolLM2 (135M/360M/1.7B) share one tokenizer; <|endoftext|> is its end-of-text token.
    "smollm2": _chatml_style("smollm2", eos="<|endoftext|>"),
    # Qwen2.5 / Qwen2.5-Coder.
    "qwen2": _chatml_style("qwen2", eos="<|endoftext|>"),
}


class UnknownFamily(KeyError):
    def __str__(self) -> str:
        return f"unknown token-map family {self.args[0]!r}; known: {', '.join(sorted(TOKEN_MAPS))}"


def token_map_for(family: str) -> TokenMap:
    try:
        return TOKEN_MAPS[family]
    except KeyError:
        raise UnknownFamily(family) from None


def add_format_tokens(tokenizer: Tokenizer, token_map: TokenMap) -> Tokenizer:
    """Adds the format's special tokens that `tokenizer` lacks (idempotent); returns it."""
    missing = [t for t in token_map.special_tokens if tokenizer.token_to_id(t) is None]
    if missing:
        tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in missing])
    return tokenizer


def load_tokenizer(tokenizer_json: str | Path, family: str = "smollm2") -> Tokenizer:
    """Loads a tokenizer.json and makes sure it has the family's format tokens."""
    path = Path(tokenizer_json)
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no tokenizer.json")
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on a malformed file
        raise ValueError(f"{path}: not a valid tokenizer.json ({exc})") from None
    return add_format_tokens(tokenizer, token_map_for(family))
