"""Definitions and imports of one source file, found with tree-sitter alone.

`outline(language, path, text) -> Outline` lists the file's definitions — functions, classes,
methods, structs, enums, traits, interfaces, type aliases, constants (and Rust impls, which carry
the methods of a type) — each with its signature and an *excerpt*: the whole outline item, or for
long items the head plus the signatures of its children with bodies elided to "…". Excerpts are
computed here, once per file version, so that answering a request only looks them up.

It also lists the file's imports: imported names and module "hints" (path fragments such as
`pkg/util` that a file defining the name is likely to end with).

Only top-level items and the members of classes/impls/traits/modules are walked, never function
bodies, which keeps indexing a 2,000-file workspace to seconds.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import tree_sitter

from zeta2_capture.languages import parse

MAX_EXCERPT_LINES = 20  # a longer item is elided to its head and the signatures of its children
MAX_ELIDED_LINES = 60
MAX_SIGNATURE_CHARS = 400
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    kind: str  # function, method, class, struct, enum, trait, interface, type, constant, impl, module
    path: str
    start_line: int  # of the excerpt (decorators and `export` included), 0-based
    end_line: int
    signature: str
    excerpt: str
    parent: str | None = None  # the class/impl/trait a method belongs to


@dataclass(frozen=True, slots=True)
class Imports:
    names: frozenset[str] = frozenset()
    hints: tuple[str, ...] = ()  # repo-relative path fragments without extension


@dataclass(frozen=True, slots=True)
class Outline:
    path: str
    language: str
    definitions: tuple[Definition, ...] = ()
    imports: Imports = field(default_factory=Imports)


# node type -> kind, per language family. Names come from the node's `name` field unless noted.
_KINDS: dict[str, dict[str, str]] = {
    "python": {"function_definition": "function", "class_definition": "class", "type_alias_statement": "type"},
    "javascript": {
        "function_declaration": "function",
        "generator_function_declaration": "function",
        "class_declaration": "class",
        "method_definition": "method",
    },
    "rust": {
        "function_item": "function",
        "function_signature_item": "function",
        "struct_item": "struct",
        "enum_item": "enum",
        "union_item": "struct",
        "trait_item": "trait",
        "type_item": "type",
        "const_item": "constant",
        "static_item": "constant",
        "mod_item": "module",
        "macro_definition": "function",
        "impl_item": "impl",
    },
    "go": {"function_declaration": "function", "method_declaration": "method"},
}
_KINDS["typescript"] = {
    **_KINDS["javascript"],
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
    "function_signature": "function",
    "internal_module": "module",
}
_KINDS["tsx"] = _KINDS["typescript"]

# Wrappers whose child is the definition; the excerpt starts at the wrapper.
_WRAPPERS = {"decorated_definition", "export_statement", "ambient_declaration"}
# Bodies whose members are definitions worth indexing.
_MEMBER_CONTAINERS = {"class", "impl", "trait", "module", "interface"}
_CLOSERS = ("}", ")", "]", "end")


def _family(language: str) -> str:
    return "javascript" if language == "javascript" else language


class _Builder:
    def __init__(self, language: str, path: str, text: str, source: bytes):
        self.language = language
        self.path = path
        self.text = text
        self.source = source
        self.lines = text.split("\n")
        self.kinds = _KINDS[_family(language)]
        self.definitions: list[Definition] = []

    def node_text(self, node: tree_sitter.Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    # -- walking -------------------------------------------------------------------------------

    def walk_scope(self, scope: tree_sitter.Node, parent: str | None, top: bool) -> None:
        for child in scope.named_children:
            self.visit(child, child, parent, top)

    def visit(self, node: tree_sitter.Node, outer: tree_sitter.Node, parent: str | None, top: bool) -> None:
        kind_map = self.kinds
        t = node.type
        if t in _WRAPPERS:
            inner = node.child_by_field_name("definition") or node.child_by_field_name("declaration")
            if inner is None:
                inner = next((c for c in node.named_children if c.type in kind_map or c.type in _DECLS), None)
            if inner is not None:
                self.visit(inner, outer, parent, top)
            return
        if t in kind_map:
            kind = kind_map[t]
            if kind == "function" and parent is not None:
                kind = "method"
            name_node = node.child_by_field_name("name")
            if t == "mod_item" and node.child_by_field_name("body") is None:
                return  # `mod net;` only declares a file; the file's own items are indexed
            if t == "impl_item":
                name_node = node.child_by_field_name("type")
            elif t == "method_declaration":
                parent = self.go_receiver(node) or parent
            if name_node is None:
                return
            name = self.node_text(name_node)
            if t == "impl_item":
                name = name.split("<", 1)[0]
            body = node.child_by_field_name("body")
            members: list[tree_sitter.Node] = []
            if body is not None and kind in _MEMBER_CONTAINERS:
                before = len(self.definitions)
                self.walk_scope(body, name, False)
                members = [c for c in body.named_children]
                del before
            self.add(name, kind, node, outer, body, members, parent)
            return
        if top or parent is not None:
            self.visit_declaration(node, outer, parent, top)

    def go_receiver(self, node: tree_sitter.Node) -> str | None:
        receiver = node.child_by_field_name("receiver")
        if receiver is None:
            return None
        stack = [receiver]
        while stack:
            n = stack.pop()
            if n.type == "type_identifier":
                return self.node_text(n)
            stack.extend(n.named_children)
        return None

    def visit_declaration(self, node: tree_sitter.Node, outer: tree_sitter.Node, parent: str | None, top: bool) -> None:
        """Constants, variables holding functions, Go type/const/var specs: declarations with a list of names."""
        t = node.type
        if self.language == "python" and t == "expression_statement" and top:
            assign = node.named_children[0] if node.named_children else None
            if assign is not None and assign.type == "assignment":
                left = assign.child_by_field_name("left")
                if left is not None and left.type == "identifier":
                    self.add(self.node_text(left), "constant", node, outer, None, [], parent)
        elif t in ("lexical_declaration", "variable_declaration") and top:
            for decl in node.named_children:
                if decl.type != "variable_declarator":
                    continue
                name = decl.child_by_field_name("name")
                if name is None or name.type != "identifier":
                    continue
                value = decl.child_by_field_name("value")
                is_fn = value is not None and value.type in ("arrow_function", "function_expression", "function")
                body = value.child_by_field_name("body") if is_fn and value is not None else None
                self.add(self.node_text(name), "function" if is_fn else "constant", node, outer, body, [], parent)
        elif t == "type_declaration":
            specs = [c for c in node.named_children if c.type in ("type_spec", "type_alias")]
            for spec in specs:
                name = spec.child_by_field_name("name")
                type_node = spec.child_by_field_name("type")
                if name is None:
                    continue
                kind = {"struct_type": "struct", "interface_type": "interface"}.get(
                    type_node.type if type_node is not None else "", "type"
                )
                item = outer if len(specs) == 1 else spec
                body = None
                if type_node is not None and type_node.type == "struct_type":
                    body = next((c for c in type_node.named_children if c.type == "field_declaration_list"), None)
                elif type_node is not None and type_node.type == "interface_type":
                    body = type_node
                members = body.named_children if body is not None else []
                self.add(self.node_text(name), kind, spec, item, body, members, parent)
        elif t in ("const_declaration", "var_declaration"):
            specs = [c for c in node.named_children if c.type in ("const_spec", "var_spec")]
            for spec in specs:
                item = outer if len(specs) == 1 else spec
                for name in spec.children_by_field_name("name"):
                    self.add(self.node_text(name), "constant", spec, item, None, [], parent)

    # -- excerpts ------------------------------------------------------------------------------

    def add(
        self,
        name: str,
        kind: str,
        node: tree_sitter.Node,
        outer: tree_sitter.Node,
        body: tree_sitter.Node | None,
        members: list[tree_sitter.Node],
        parent: str | None,
    ) -> None:
        if not name or not name.isidentifier():
            return
        start = outer.start_point[0]
        end = outer.end_point[0]
        if outer.end_point[1] == 0 and end > start:
            end -= 1
        header_end = body.start_point[0] if body is not None else end
        signature = "\n".join(self.lines[start : header_end + 1]).strip()
        if body is not None:
            # the signature stops where the body starts, on the body's first line
            sig_bytes = self.source[outer.start_byte : body.start_byte].decode("utf-8", "replace").rstrip()
            signature = sig_bytes or signature
        signature = signature[:MAX_SIGNATURE_CHARS]
        self.definitions.append(
            Definition(
                name=name,
                kind=kind,
                path=self.path,
                start_line=start,
                end_line=end,
                signature=signature,
                excerpt=self.excerpt(start, end, header_end, kind, members),
                parent=parent,
            )
        )

    def excerpt(self, start: int, end: int, header_end: int, kind: str, members: list[tree_sitter.Node]) -> str:
        lines = self.lines
        if end - start + 1 <= MAX_EXCERPT_LINES:
            return "\n".join(lines[start : end + 1])
        keep: list[str] = list(lines[start : header_end + 1])
        indent = _indent(lines[min(header_end + 1, end)]) or _indent(lines[start]) + "    "
        if members:
            for member in members:
                if member.type in ("comment", "line_comment", "block_comment", "expression_statement") and (
                    member.type != "expression_statement" or member.start_point[0] != member.end_point[0]
                ):
                    continue  # docstrings and comments; single-line statements (class fields) stay
                m_start, m_end = member.start_point[0], member.end_point[0]
                if m_start <= header_end:
                    continue
                if m_end - m_start < 2:
                    keep.extend(lines[m_start : m_end + 1])
                    continue
                inner = _body_of(member)
                m_header_end = inner.start_point[0] if inner is not None else m_start
                keep.extend(lines[m_start : m_header_end + 1])
                keep.append(_indent(lines[m_start]) + "    " + ELLIPSIS)
                if len(keep) >= MAX_ELIDED_LINES:
                    keep.append(indent + ELLIPSIS)
                    break
        else:
            keep.append(indent + ELLIPSIS)
        last = lines[end] if end < len(lines) else ""
        if end > header_end and last.strip().startswith(_CLOSERS):
            keep.append(last)
        return "\n".join(keep)


def _body_of(node: tree_sitter.Node) -> tree_sitter.Node | None:
    for n in (node, *node.named_children):
        body = n.child_by_field_name("body")
        if body is not None:
            return body
    return None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


_DECLS = {
    "lexical_declaration",
    "variable_declaration",
    "type_declaration",
    "const_declaration",
    "var_declaration",
    "expression_statement",
}


# ---------------------------------------------------------------------------------------------
# imports


def _string_value(text: str) -> str:
    return text.strip().strip("\"'`")


def _imports(language: str, path: str, root: tree_sitter.Node, builder: _Builder) -> Imports:
    names: set[str] = set()
    hints: list[str] = []
    directory = posixpath.dirname(path)
    for node in root.named_children:
        t = node.type
        if language == "python" and t in ("import_statement", "import_from_statement"):
            module = node.child_by_field_name("module_name")
            modules = [module] if module is not None else node.children_by_field_name("name")
            for mod in modules:
                dotted = builder.node_text(mod)
                level = len(dotted) - len(dotted.lstrip("."))
                parts = [p for p in dotted.lstrip(".").split(".") if p]
                if level:
                    base = directory
                    for _ in range(level - 1):
                        base = posixpath.dirname(base)
                    hints.append(posixpath.join(base, *parts) if parts else base)
                elif parts:
                    hints.append("/".join(parts))
            for name in node.children_by_field_name("name"):
                for part in (name.child_by_field_name("name"), name.child_by_field_name("alias")) if name.type == "aliased_import" else (name,):
                    if part is not None:
                        names.add(builder.node_text(part).split(".")[-1])
        elif language in ("javascript", "typescript", "tsx") and t in ("import_statement", "export_statement"):
            source = node.child_by_field_name("source")
            if source is None:
                continue
            spec = _string_value(builder.node_text(source))
            if spec.startswith("."):
                resolved = posixpath.normpath(posixpath.join(directory, spec))
                hints.append(resolved.rsplit(".", 1)[0] if resolved.endswith((".js", ".ts", ".tsx", ".jsx")) else resolved)
            else:
                hints.append(spec)
            _collect_identifiers(node, builder, names)
        elif language == "rust" and t == "use_declaration":
            arg = node.child_by_field_name("argument")
            if arg is not None:
                text = builder.node_text(arg)
                prefix = text.split("::{", 1)[0]
                parts = [p for p in prefix.split("::") if p not in ("crate", "self", "super", "")]
                if parts and "{" not in prefix:
                    parts = parts[:-1] if len(parts) > 1 else parts
                if parts:
                    hints.append("/".join(parts))
                _collect_identifiers(arg, builder, names)
        elif language == "go" and t == "import_declaration":
            stack = [node]
            while stack:
                n = stack.pop()
                if n.type == "import_spec":
                    p = n.child_by_field_name("path")
                    if p is not None:
                        hints.append(_string_value(builder.node_text(p)).rsplit("/", 1)[-1])
                stack.extend(n.named_children)
    return Imports(frozenset(names), tuple(dict.fromkeys(hints)))


def _collect_identifiers(node: tree_sitter.Node, builder: _Builder, into: set[str]) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in ("identifier", "type_identifier"):
            into.add(builder.node_text(n))
        stack.extend(n.named_children)


def outline_tree(language: str, path: str, text: str, tree: tree_sitter.Tree) -> Outline:
    source = text.encode("utf-8")
    builder = _Builder(language, path, text, source)
    builder.walk_scope(tree.root_node, None, True)
    definitions = tuple(sorted(builder.definitions, key=lambda d: (d.start_line, d.end_line)))
    return Outline(path, language, definitions, _imports(language, path, tree.root_node, builder))


def outline(language: str, path: str, text: str) -> Outline:
    """The outline of `text`; an empty one for an unsupported language."""
    if _family(language) not in _KINDS:
        return Outline(path, language)
    tree = parse(language, text)
    if tree is None:
        return Outline(path, language)
    return outline_tree(language, path, text, tree)
