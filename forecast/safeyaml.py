"""YAML read with bounds: size, nesting depth, aliases and the size of the structure the
aliases expand to, plus one-line errors for values the YAML constructors reject (a date such as
2022-13-45). PyYAML alone recurses once per nesting level (50,000 nested lists, or an alias that
contains itself, end in RecursionError) and lets nine aliases of nine aliases stand for a billion
nodes (the "billion laughs"), which any walk of the result then expands.

:func:`load_yaml` returns the composed node tree (for line numbers) and the constructed data,
or raises :class:`YAMLProblem` (a line and a message; the caller adds the file) or
``yaml.YAMLError`` (syntax).
"""

from __future__ import annotations

from typing import Any

import yaml

#: Largest YAML text read, characters (the shipped configs are about 20,000).
MAX_CHARACTERS = 1_000_000
#: Deepest nesting of mappings and lists (the config's own schema is about 8 deep).
MAX_DEPTH = 64
#: Most aliases (*name) in one document.
MAX_ALIASES = 1_000
#: Most nodes the document stands for once every alias is expanded.
MAX_EXPANDED_NODES = 100_000


class YAMLProblem(Exception):
    """A YAML document that is well formed but outside the bounds, or holds a value its
    constructor rejects. ``line`` is 1-based (None when unknown)."""

    def __init__(self, line: int | None, message: str, fix: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.fix = fix
        self.root: yaml.Node | None = None  # the composed document, when composing succeeded


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts nesting depth and aliases while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YAMLProblem(line, f"more than {MAX_ALIASES:,} aliases (*name)",
                                  fix="write the values out instead of repeating aliases")
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YAMLProblem(line, f"lists or mappings nested more than {MAX_DEPTH} levels "
                                  "deep", fix="a config is a few levels deep; check brackets "
                                  "and indentation")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except ValueError as exc:  # e.g. datetime.date(2022, 13, 45), an int of 5,000 digits
            line = node.start_mark.line + 1
            if node.tag == "tag:yaml.org,2002:timestamp":
                raise YAMLProblem(line, f"'{node.value}' is not a valid date ({exc})",
                                  fix="write a real date as YYYY-MM-DD (or the year alone)"
                                  ) from None
            raise YAMLProblem(line, f"'{str(node.value)[:40]}' cannot be read ({exc})",
                              fix="write an ordinary number or text") from None


def _check_expansion(root: yaml.Node) -> None:
    """Raise YAMLProblem when aliases make the document cyclic, larger than
    MAX_EXPANDED_NODES or deeper than MAX_DEPTH once expanded
    (an iterative walk: each node is sized once)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if done:
            active.discard(key)
            total = 1 + sum(size[id(child)] for child in children)
            if total > MAX_EXPANDED_NODES:
                raise YAMLProblem(node.start_mark.line + 1, "the aliases expand to more than "
                                  f"{MAX_EXPANDED_NODES:,} values (an alias bomb?)",
                                  fix="write the values out instead of nesting aliases")
            size[key] = total
            depth[key] = 1 + max((depth[id(child)] for child in children), default=0)
            if depth[key] > MAX_DEPTH:
                raise YAMLProblem(node.start_mark.line + 1, "the aliases nest lists or "
                                  f"mappings more than {MAX_DEPTH} levels deep",
                                  fix="write the values out instead of nesting aliases")
            continue
        if key in size:
            continue
        if key in active:
            raise YAMLProblem(node.start_mark.line + 1, "an alias refers to a list or mapping "
                              "that contains it (a recursive structure)",
                              fix="remove the alias (*name) inside its own anchor (&name)")
        active.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in active:
                raise YAMLProblem(child.start_mark.line + 1, "an alias refers to a list or "
                                  "mapping that contains it (a recursive structure)",
                                  fix="remove the alias (*name) inside its own anchor (&name)")
            if id(child) not in size:
                stack.append((child, False))


def key_at_line(root: yaml.Node | None, line: int) -> tuple:
    """The key path (mapping keys and list indexes) of the value that starts on ``line``
    (1-based), or () when none does."""
    best: tuple = ()
    stack: list[tuple[yaml.Node, tuple]] = [(root, ())] if root is not None else []
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.start_mark.line + 1 == line and len(path) > len(best):
            best = path
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, (*path, name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, index)) for index, item in enumerate(node.value))
    return best


def load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree and the data of one YAML document, within the bounds above."""
    if len(text) > MAX_CHARACTERS:
        raise YAMLProblem(None, f"the file has {len(text):,} characters, more than the "
                          f"{MAX_CHARACTERS:,} a config may have", fix="check it is the right "
                          "file")
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expansion(node)
        try:
            return node, loader.construct_document(node)
        except YAMLProblem as problem:
            problem.root = node
            raise
    finally:
        loader.dispose()
