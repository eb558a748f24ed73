"""The configuration reference, rendered from the settings dataclasses themselves.

Each section is a table of key, type, default and meaning. The meaning is the field's own comment: the
``# ...`` at the end of its line, after the comment lines just above it. The defaults are read from a
default instance of the root, so a section whose default differs by recipe shows the recipe's default.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import inspect
import io
import json
import textwrap
import tokenize
import typing
from typing import Any


def field_comments(cls: type) -> dict[str, str]:
    """Each field's comment in the class source (the lines just above it, then the one at its end)."""
    source = textwrap.dedent(inspect.getsource(cls))
    lines = source.splitlines()
    comments: dict[int, tuple[str, bool]] = {}  # line number: (text, the whole line is a comment)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, column = token.start
            comments[row] = (token.string.lstrip("#").strip(), not lines[row - 1][:column].strip())
    class_node = ast.parse(source).body[0]
    if not isinstance(class_node, ast.ClassDef):
        raise TypeError(f"{cls.__name__}: its source does not start with the class")
    found = {}
    for node in class_node.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        above: list[str] = []
        row = node.lineno - 1
        while row in comments and comments[row][1]:
            above.insert(0, comments[row][0])
            row -= 1
        after = [comments[row][0] for row in range(node.lineno, (node.end_lineno or node.lineno) + 1)
                 if row in comments and not comments[row][1]]
        found[node.target.id] = " ".join(above + after)
    return found


def show_value(value: Any) -> str:
    """A default as it would be written in the config file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "(unset)"
    if isinstance(value, enum.Enum):
        return show_value(value.value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show_value(item) for item in value) + "]"
    return repr(value)


def _type_text(cls: type, name: str) -> str:
    """The annotation as written; an enum also lists the values the file may give."""
    hint = typing.get_type_hints(cls)[name]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return " | ".join(show_value(member.value) for member in hint)
    annotation = inspect.get_annotations(cls).get(name, "")
    return annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _summary(cls: type) -> str:
    """The first paragraph of a class's own docstring ("" for a dataclass's generated one)."""
    doc = cls.__dict__.get("__doc__") or ""
    if doc.startswith(cls.__name__ + "("):
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n")[0].split()).replace("``", "`")


def render_section(instance: Any, path: str, heading: str) -> list[str]:
    """Markdown for one section (``path`` like ``hearing.vad``; "" for a root's own keys) and its subsections."""
    cls = type(instance)
    comments = field_comments(cls)
    plain = [f for f in dataclasses.fields(cls) if not dataclasses.is_dataclass(getattr(instance, f.name))]
    nested = [f for f in dataclasses.fields(cls) if dataclasses.is_dataclass(getattr(instance, f.name))]
    out: list[str] = []
    if plain:
        out += [f"{heading} {f'[{path}]' if path else 'Top-level keys'}", ""]
        summary = _summary(cls) if path else ""  # a root's own text heads its whole part
        if summary:
            out += [summary, ""]
        out += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for f in plain:
            cells = [f.name, _type_text(cls, f.name), show_value(getattr(instance, f.name))]
            out.append("| " + " | ".join(f"`{_cell(cell)}`" for cell in cells) + f" | {_cell(comments.get(f.name, ''))} |")
        out.append("")
    for f in nested:
        out += render_section(getattr(instance, f.name), f"{path}.{f.name}" if path else f.name, heading)
    return out
