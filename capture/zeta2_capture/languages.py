"""Languages zeta2 understands, by file extension, and their tree-sitter parsers.

Grammars come from the per-language wheels (tree-sitter >= 0.25), so nothing is downloaded at
run time. Parsers are cached per language; a `tree_sitter.Parser` is not thread-safe, so each
thread gets its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import PurePosixPath

import tree_sitter

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".rs": "rust",
    ".go": "go",
}

# LSP languageId values that differ from ours.
LANGUAGE_IDS: dict[str, str] = {
    "javascriptreact": "javascript",
    "typescriptreact": "tsx",
}


def _grammar(language: str) -> object:
    # Imported lazily: each grammar wheel is a compiled extension and most processes need one or two.
    if language == "python":
        import tree_sitter_python as m

        return m.language()
    if language == "javascript":
        import tree_sitter_javascript as m

        return m.language()
    if language == "typescript":
        import tree_sitter_typescript as m

        return m.language_typescript()
    if language == "tsx":
        import tree_sitter_typescript as m

        return m.language_tsx()
    if language == "rust":
        import tree_sitter_rust as m

        return m.language()
    if language == "go":
        import tree_sitter_go as m

        return m.language()
    raise KeyError(language)


SUPPORTED: tuple[str, ...] = ("python", "javascript", "typescript", "tsx", "rust", "go")

_languages: dict[str, tree_sitter.Language] = {}
_local = threading.local()
_lock = threading.Lock()


def language_for_path(path: str) -> str | None:
    """The language of a file by its extension, or None when zeta2 does not parse it."""
    return EXTENSIONS.get(PurePosixPath(path.replace("\\", "/")).suffix.lower())


def normalize_language(language: str | None, path: str = "") -> str | None:
    """Maps an example's or a client's language name onto ours; falls back to the path.

    `.tsx` files are 'typescript' in the data set but need the TSX grammar.
    """
    if path.lower().endswith(".tsx"):
        return "tsx"
    if language:
        language = LANGUAGE_IDS.get(language, language)
        if language in SUPPORTED:
            return language
    return language_for_path(path) if path else None


def ts_language(language: str) -> tree_sitter.Language:
    with _lock:
        lang = _languages.get(language)
        if lang is None:
            lang = _languages[language] = tree_sitter.Language(_grammar(language))
        return lang


def parser_for(language: str) -> tree_sitter.Parser | None:
    """A parser for `language` owned by the calling thread, or None for an unsupported language."""
    if language not in SUPPORTED:
        return None
    parsers = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(language)
    if parser is None:
        parser = parsers[language] = tree_sitter.Parser(ts_language(language))
    return parser


def parse(language: str | None, text: str) -> tree_sitter.Tree | None:
    """Parses `text`; None when the language is not supported."""
    parser = parser_for(language) if language else None
    if parser is None:
        return None
    return parser.parse(text.encode("utf-8"))


def count_syntax_errors(language: str | None, text: str) -> int | None:
    """Number of ERROR and MISSING nodes in the parse of `text`, or None for an unsupported language."""
    tree = parse(language, text)
    return None if tree is None else count_tree_errors(tree)


def count_tree_errors(tree: tree_sitter.Tree) -> int:
    """Number of ERROR and MISSING nodes of a parsed tree."""
    if not tree.root_node.has_error:
        return 0
    count = 0
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        if node.has_error:
            stack.extend(node.children)
    return count


def walk(node: tree_sitter.Node, visit: Callable[[tree_sitter.Node], bool]) -> None:
    """Depth-first walk; `visit` returns False to skip a node's children."""
    stack = [node]
    while stack:
        current = stack.pop()
        if visit(current):
            stack.extend(reversed(current.children))
