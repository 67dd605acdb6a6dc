"""Related context for a cursor: the definitions of what the code around it uses.

    related_context(index, path, text, cursor, budget_bytes=4096, recent_paths=()) -> list[Related]

1. Identifiers within ±3 lines of the cursor and in the signatures enclosing it (parameters and
   locals of the enclosing function are not looked up; neither are `self`/`this` and builtins).
2. Each is resolved to definitions in the buffer itself (outside the lines around the cursor, which
   the prompt shows anyway), in the files it imports, and in the workspace index.
3. Candidates are ranked: buffer first, then imported/qualified (`mod.name`, `Type::name`,
   `self.name`) or recently edited files, then the same folder, then the rest of the workspace —
   where a name must be nearly unique (≤ 2 definitions) to count, so common names like `new` or
   `get` do not drag in unrelated code. Within a tier, identifiers nearer the cursor come first.
4. Excerpts are the index's outline items (long bodies elided), de-duplicated (a method inside a
   class excerpt already chosen is not repeated), and cut to `budget_bytes` of UTF-8 text.

`Related.source` says where a definition was found: "buffer", "import", "recent", "folder" or
"workspace". `index` may be None (then only the buffer is searched).
"""

from __future__ import annotations

import functools
import posixpath
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import tree_sitter

from zeta2_capture.history import changed_span
from zeta2_capture.languages import language_for_path, normalize_language, parser_for
from zeta2_capture.outline import _KINDS, Definition, Outline, outline_tree
from zeta2_capture.schema import Related

WINDOW_LINES = 3
NEARBY_LINES = 15  # buffer definitions this close to the cursor are already in the prompt
MAX_ITEMS = 12
# Buffers above these sizes get no tree-sitter context (as the index skips files over 1 MB): one
# parse and outline of a 100k-line buffer takes about a second, too long for every keystroke.
MAX_CONTEXT_BYTES = 1_000_000
MAX_CONTEXT_LINES = 20_000


def too_large_for_context(text: str) -> str | None:
    """Why a buffer is too large to parse per request, or None."""
    if len(text) > MAX_CONTEXT_BYTES or len(text.encode("utf-8")) > MAX_CONTEXT_BYTES:
        return f"buffer over {MAX_CONTEXT_BYTES} bytes"
    lines = text.count("\n")
    if lines > MAX_CONTEXT_LINES:
        return f"buffer over {MAX_CONTEXT_LINES} lines"
    return None
MAX_WORKSPACE_CANDIDATES = 2
MAX_SCANNED_CANDIDATES = 48  # above this, only definitions in nearby files are considered

_IDENTIFIER_TYPES = frozenset(
    {"identifier", "type_identifier", "field_identifier", "property_identifier", "shorthand_property_identifier",
     "shorthand_property_identifier_pattern"}
)
_DESTRUCTURING = frozenset({"object_pattern", "array_pattern", "pair_pattern", "assignment_pattern", "tuple_pattern"})
_MEMBER_PARENTS = {
    "attribute": "object",
    "member_expression": "object",
    "selector_expression": "operand",
    "field_expression": "value",
    "scoped_identifier": "path",
    "scoped_type_identifier": "path",
    "qualified_type": "package",
}
_PARAM_PARENTS = frozenset(
    {"parameters", "typed_parameter", "default_parameter", "typed_default_parameter", "required_parameter",
     "optional_parameter", "parameter", "parameter_declaration", "formal_parameters", "lambda_parameters",
     "closure_parameters", "self_parameter"}
)
_LOCAL_BINDERS = frozenset({"assignment", "variable_declarator", "let_declaration", "short_var_declaration",
                            "for_statement", "for_in_statement", "for_expression", "range_clause"})
_PATTERNS = frozenset({"expression_list", "pattern_list", "tuple_pattern", "list_pattern", "array_pattern",
                       "object_pattern", "tuple", "tuple_expression"})
_SKIP_NAMES = frozenset(
    {"self", "cls", "this", "super", "Self", "len", "print", "str", "int", "float", "bool", "list", "dict",
     "set", "tuple", "range", "isinstance", "None", "True", "False", "console", "undefined", "null", "string",
     "number", "boolean", "Object", "Array", "String", "Number", "Promise", "Ok", "Err", "Some", "Vec",
     "Option", "Result", "Box", "err", "nil", "fmt", "make", "append", "error", "any", "void", "_"}
)
_TIER_SOURCE = {0: "buffer", 1: "import", 2: "folder", 3: "workspace"}


@dataclass(slots=True)
class _Use:
    name: str
    distance: float
    qualifier: str | None = None


_parse_cache: dict[tuple[str, str], tuple[str, tree_sitter.Tree, Outline]] = {}
MAX_CACHED_BUFFERS = 16


def _point(text: str, offset: int) -> tuple[int, int]:
    """(row, byte column) of a code-point offset, as tree-sitter counts."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset), len(text[line_start:offset].encode("utf-8"))


_parse_lock = threading.Lock()  # trees are edited in place: one buffer update at a time


def _parsed(language: str, path: str, text: str) -> tuple[tree_sitter.Tree, Outline] | None:
    """Parse + outline of a buffer. The last tree of each buffer is kept, and a new text is parsed
    incrementally against it (consecutive keystrokes differ by one small edit), which is what keeps
    a request to about a millisecond of parsing."""
    with _parse_lock:
        return _parsed_locked(language, path, text)


def _parsed_locked(language: str, path: str, text: str) -> tuple[tree_sitter.Tree, Outline] | None:
    key = (language, path)
    hit = _parse_cache.get(key)
    if hit is not None and hit[0] == text:
        return hit[1], hit[2]
    parser = parser_for(language)
    if parser is None:
        return None
    source = text.encode("utf-8")
    if hit is not None:
        old_text, old_tree = hit[0], hit[1]
        start, old_end, new_end = changed_span(old_text, text)
        prefix_bytes = len(old_text[:start].encode("utf-8"))
        old_tree.edit(
            start_byte=prefix_bytes,
            old_end_byte=prefix_bytes + len(old_text[start:old_end].encode("utf-8")),
            new_end_byte=prefix_bytes + len(text[start:new_end].encode("utf-8")),
            start_point=_point(old_text, start),
            old_end_point=_point(old_text, old_end),
            new_end_point=_point(text, new_end),
        )
        tree = parser.parse(source, old_tree)
    else:
        tree = parser.parse(source)
    result = outline_tree(language, path, text, tree)
    _parse_cache.pop(key, None)
    if len(_parse_cache) >= MAX_CACHED_BUFFERS:
        _parse_cache.pop(next(iter(_parse_cache)))
    _parse_cache[key] = (text, tree, result)
    return tree, result


def parsed_buffer(language: str, path: str, text: str) -> tuple[tree_sitter.Tree, Outline] | None:
    """The cached parse of a buffer (shared with diagnostics by `snapshot`)."""
    language = normalize_language(language, path) or language
    return _parsed(language, path, text)


def _text(source: bytes, node: tree_sitter.Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _uses_near(tree: tree_sitter.Tree, source: bytes, row: int, byte: int, kinds: dict[str, str]):
    """Identifiers around the cursor and in enclosing signatures; plus locals and enclosing names."""
    uses: dict[str, _Use] = {}
    locals_: set[str] = set()
    enclosing: list[tree_sitter.Node] = []
    lo, hi = row - WINDOW_LINES, row + WINDOW_LINES

    def note(node: tree_sitter.Node, distance: float) -> None:
        name = _text(source, node)
        if len(name) < 2 or name in _SKIP_NAMES or not name.isidentifier():
            return
        parent = node.parent
        qualifier = None
        if parent is not None:
            if parent.type in _PARAM_PARENTS and parent.named_children and parent.named_children[0] == node:
                locals_.add(name)
                return
            if node.type == "shorthand_property_identifier_pattern" or parent.type in _DESTRUCTURING:
                # `{ users }` / `[a, b]` in a parameter list binds locals
                up = parent
                for _ in range(4):
                    if up is None:
                        break
                    if up.type in _PARAM_PARENTS:
                        locals_.add(name)
                        return
                    up = up.parent
            binder = parent
            for _ in range(3):
                if binder.type in _LOCAL_BINDERS:
                    left = (binder.child_by_field_name("left") or binder.child_by_field_name("name")
                            or binder.child_by_field_name("pattern"))
                    if left is not None and left.start_byte <= node.start_byte and node.end_byte <= left.end_byte:
                        locals_.add(name)
                        return
                    break
                if binder.type not in _PATTERNS or binder.parent is None:
                    break
                binder = binder.parent
            obj_field = _MEMBER_PARENTS.get(parent.type)
            if parent.type == "field_expression":
                obj_field = None  # Rust `value.method()`: the qualifier is a value, not a module or type
            if obj_field is not None:
                obj = parent.child_by_field_name(obj_field)
                if obj is not None and obj != node:
                    qualifier = _text(source, obj).rsplit(".", 1)[-1].rsplit("::", 1)[-1]
        old = uses.get(name)
        if old is None or distance < old.distance:
            uses[name] = _Use(name, distance, qualifier if old is None or old.qualifier is None else old.qualifier)

    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.end_point[0] < lo or node.start_point[0] > hi:
            continue
        if node.type in _IDENTIFIER_TYPES:
            note(node, abs(node.start_point[0] - row))
        stack.extend(node.children)

    # enclosing definitions: their signatures (parameter types, return types, base classes) count
    node = tree.root_node.descendant_for_byte_range(byte, byte)
    while node is not None:
        if node.type in kinds:
            enclosing.append(node)
            body = node.child_by_field_name("body")
            end = body.start_byte if body is not None else node.end_byte
            params = node.child_by_field_name("parameters")
            if params is not None:
                for ident in _identifiers(params):
                    note(ident, WINDOW_LINES + 0.5)
            sig_stack = [node]
            while sig_stack:
                n = sig_stack.pop()
                if n.start_byte >= end or n == body:
                    continue
                if n.type in _IDENTIFIER_TYPES and n != node.child_by_field_name("name"):
                    note(n, WINDOW_LINES + 0.5)
                sig_stack.extend(n.children)
        node = node.parent
    for name in locals_:
        uses.pop(name, None)
    return uses, enclosing


def _identifiers(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type in _IDENTIFIER_TYPES:
            out.append(n)
        stack.extend(n.children)
    return out


def _stem(path: str) -> str:
    return path.rsplit(".", 1)[0]


@functools.lru_cache(maxsize=65536)
def _family(path: str) -> str | None:
    language = language_for_path(path)
    return "js" if language in ("javascript", "typescript", "tsx") else language


def _matches_hint(path: str, hints: Sequence[str], folders_only: bool = False) -> bool:
    stem = _stem(path)
    folder = posixpath.dirname(path)
    for hint in hints:
        if folders_only:
            if folder == hint or folder.endswith("/" + hint):
                return True
            continue
        if stem == hint or stem.endswith("/" + hint) or folder == hint or folder.endswith("/" + hint):
            return True
        if stem.endswith(hint + "/__init__") or stem.endswith(hint + "/index") or stem.endswith(hint + "/mod"):
            return True
    return False


def _grown(index, own: Outline, d: Definition) -> Definition:
    """A member grown to its enclosing item (class, impl, …) when that item's excerpt is whole."""
    if d.parent is None:
        return d
    outline = own if d.path == own.path else (index.outline_for(d.path) if index is not None else None)
    if outline is None:
        return d
    for p in outline.definitions:
        if (p.name == d.parent and p.start_line <= d.start_line and d.end_line <= p.end_line
                and p.excerpt.count("\n") == p.end_line - p.start_line
                and len(p.excerpt) <= 4 * len(d.excerpt) + 400):
            return p
    return d


def related_context(
    index,
    path: str,
    text: str,
    cursor: int,
    budget_bytes: int = 4096,
    *,
    language: str | None = None,
    recent_paths: Sequence[str] = (),
) -> list[Related]:
    """Definitions the code at `cursor` (code points into `text`) uses, best first, within `budget_bytes`."""
    language = normalize_language(language, path)
    if language is None or budget_bytes <= 0 or too_large_for_context(text):
        return []
    parsed = _parsed(language, path, text)
    if parsed is None:
        return []
    tree, own = parsed
    cursor = max(0, min(cursor, len(text)))
    row = text.count("\n", 0, cursor)
    byte = len(text[:cursor].encode("utf-8"))
    source = text.encode("utf-8")
    kinds = _KINDS["javascript" if language == "javascript" else language]
    uses, enclosing = _uses_near(tree, source, row, byte, kinds)
    enclosing_rows = {n.start_point[0] for n in enclosing}
    enclosing_names = {
        _text(source, n.child_by_field_name("name") or n.child_by_field_name("type") or n) for n in enclosing
    }
    imports = own.imports
    folder = posixpath.dirname(path)
    recent = set(recent_paths) - {path}
    family = _family(path)
    go = language == "go"  # Go imports name folders (packages), not files

    buffer_by_name: dict[str, list[Definition]] = {}
    for d in own.definitions:
        if d.start_line in enclosing_rows or (d.start_line <= row + NEARBY_LINES and d.end_line >= row - NEARBY_LINES):
            continue
        buffer_by_name.setdefault(d.name, []).append(d)

    near: set[str] = set()
    if index is not None:
        near |= recent
        near |= index.paths_in_folder(folder)
        for hint in imports.hints:
            near |= {p for p in index.paths_with_tail(hint.rsplit("/", 1)[-1]) if _matches_hint(p, (hint,), go)}

    q_cache: dict[str, set[str]] = {}

    def qualifier_paths(q: str) -> set[str]:
        if q not in q_cache:
            q_cache[q] = {p for p in index.paths_with_tail(q) if _matches_hint(p, (q,), go)}
        return q_cache[q]

    ranked: list[tuple[tuple, Definition, str]] = []
    for use in uses.values():
        name = use.name
        q = use.qualifier
        self_like = q in ("self", "this", "Self")
        for d in buffer_by_name.get(name, ()):
            if self_like and d.parent not in enclosing_names:
                continue
            ranked.append(((0, use.distance, d.start_line), d, "buffer"))
        if index is None:
            continue
        candidates = index.definitions(name)
        if len(candidates) > MAX_SCANNED_CANDIDATES:
            # a name defined all over the workspace: only nearby files can make it count
            q_paths = qualifier_paths(q) if q is not None and not self_like else set()
            candidates = [d for d in candidates if d.path in near or d.path in q_paths or (q is not None and d.parent == q)]
        candidates = [d for d in candidates if d.path != path and _family(d.path) == family]
        if not candidates:
            continue
        tiered = []
        for d in candidates:
            if q is not None and not self_like and (d.parent == q or _matches_hint(d.path, (q,), go)):
                tier, source_name = 1, "import"
            elif _matches_hint(d.path, imports.hints, go) and (name in imports.names or q is not None or language == "go"):
                tier, source_name = 1, "import"
            elif d.path in recent:
                tier, source_name = 1, "recent"
            elif go and posixpath.dirname(d.path) == folder and not self_like:
                # a Go package is its folder: same-package names need no import; elsewhere a name
                # from another file of the folder is only in scope through an import (tier 1)
                tier, source_name = 2, "folder"
            else:
                tier, source_name = 3, "workspace"
            if self_like and d.parent not in enclosing_names:
                continue
            tiered.append((tier, d, source_name))
        best = min((t for t, _, _ in tiered), default=4)
        if best == 3 and (len(tiered) > MAX_WORKSPACE_CANDIDATES or q is not None):
            continue  # ambiguous, or a member of something we could not place
        for tier, d, source_name in tiered:
            if tier == best:
                ranked.append(((tier, use.distance, d.path, d.start_line), d, source_name))

    ranked = [(key, _grown(index, own, d), src) for key, d, src in ranked]
    ranked.sort(key=lambda item: item[0])
    chosen: list[Definition] = []
    out: list[Related] = []
    used = 0
    for _, d, source_name in ranked:
        if len(out) >= MAX_ITEMS:
            break
        if any(
            c.path == d.path and c.start_line <= d.start_line and d.end_line <= c.end_line
            and c.excerpt.count("\n") == c.end_line - c.start_line
            for c in chosen
        ):
            continue  # already shown whole inside a chosen excerpt
        if any(c.path == d.path and c.start_line == d.start_line and c.name == d.name for c in chosen):
            continue
        size = len(d.excerpt.encode("utf-8")) + len(d.path) + 16
        if used + size > budget_bytes:
            continue  # a smaller definition further down may still fit
        used += size
        chosen.append(d)
        out.append(Related(d.path, d.start_line, d.excerpt, source_name))
    return out
