"""Frozen dataclasses from a mapping: typed, with unknown keys refused and every error naming ``section.key``.

A field whose type is a dataclass is a section (a nested table). Values are checked against the declared
types (ints widen to floats, lists become tuples, enums are read from their values); a field may instead
name its own reader in its metadata (``field(metadata={READ_WITH: reader})``) for values that are not
plain data. After the whole tree is built and the overrides are applied, every section that defines
``check()`` runs it (innermost first): that is where rules across keys and ranges live.
"""

from __future__ import annotations

import dataclasses
import enum
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")

# Metadata key of a field read by its own function, ``reader(value, key) -> field value`` (ValueError: bad).
READ_WITH = "pushkin.config.read_with"


class ConfigError(ValueError):
    """A config file, section or override that cannot be used; the message names the key and what is wrong."""


@runtime_checkable
class Checked(Protocol):
    """A section with rules beyond its field types; ``check`` raises ValueError naming the key at fault."""

    def check(self) -> None: ...


def build(cls: type[T], table: Mapping[str, Any] | None, where: str = "") -> T:
    """The dataclass ``cls`` from ``table`` (None: all defaults), checked; ``where`` is its section's name."""
    return load(cls, table, where=where)


def load(cls: type[T], table: Mapping[str, Any] | None, overrides: Mapping[str, Any] | None = None, *,
         where: str = "", source: str = "") -> T:
    """``cls`` from ``table``, then ``overrides`` ({"section.key": value}), then checked.

    ``source`` (a file name) prefixes the errors that come from the table and from the checks; an error in
    an override names the override instead.
    """
    prefix = f"{source}: " if source else ""
    try:
        built = _build(cls, {} if table is None else table, where)
    except ConfigError as error:
        raise ConfigError(prefix + str(error)) from None
    built = _override_all(built, overrides or {}, where)
    try:
        _check_tree(built)
    except ValueError as error:
        raise ConfigError(prefix + str(error)) from None
    return built


def apply_overrides(instance: T, overrides: Mapping[str, Any], where: str = "") -> T:
    """``instance`` with ``{"section.key": value}`` replaced, then checked.

    A string value for a key that is not a string is read as a TOML value (``3``, ``true``, ``[1, 2]``); a
    list of bare words (``[a, b]`` or ``a,b``) is a list of strings.
    """
    updated = _override_all(instance, overrides, where)
    try:
        _check_tree(updated)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return updated


def _key(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _unknown(where: str, name: str, value: Any, known: Any) -> ConfigError:
    names = ", ".join(sorted(known))
    if isinstance(value, Mapping):
        return ConfigError(f"unknown section [{_key(where, name)}] (known: {names})")
    if where:
        return ConfigError(f"unknown key {name!r} in [{where}] (known: {names})")
    return ConfigError(f"unknown key {name!r} (known: {names})")


def _build(cls: type, table: Any, where: str, base: Any = None) -> Any:
    """``cls`` from ``table``; keys the table leaves out keep ``base``'s values (its class defaults if None)."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where or 'the top level'} must be a table, got {table!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for name, value in table.items():
        if name not in fields:
            raise _unknown(where, str(name), value, fields)
        hint, key = hints[name], _key(where, name)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, Mapping):
            # A section starts from its default in the enclosing one (a recipe may set its own run defaults).
            inner = getattr(base, name) if base is not None else _default(fields[name])
            values[name] = _build(hint, value, key, inner if isinstance(inner, hint) else None)
        else:
            values[name] = _convert(fields[name], hint, value, key)
    try:
        return dataclasses.replace(base, **values) if base is not None else cls(**values)
    except ValueError as error:  # a section that checks itself on construction
        raise ConfigError(str(error)) from None


def _default(field: dataclasses.Field) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None if field.default is dataclasses.MISSING else field.default


def _convert(field: dataclasses.Field | None, hint: Any, value: Any, key: str) -> Any:
    reader: Callable[[Any, str], Any] | None = field.metadata.get(READ_WITH) if field is not None else None
    if reader is not None:
        try:
            return reader(value, key)
        except ValueError as error:
            raise ConfigError(str(error)) from None
    return _typed(hint, value, key)


def _describe(hint: Any) -> str:
    """What a value of type ``hint`` looks like, for error messages ("an integer", "a list of strings")."""
    if hint is type(None):
        return "nothing"
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(repr(member.value) for member in hint)
    if dataclasses.is_dataclass(hint):
        return "a table"
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(option) for option in typing.get_args(hint))
    if origin is tuple:
        items = typing.get_args(hint)
        plural = {"an integer": "integers", "a number": "numbers", "a string": "strings", "true or false": "booleans"}
        if len(items) == 2 and items[1] is Ellipsis:
            return "a list of " + plural.get(_describe(items[0]), "values")
        return f"a list of {len(items)} " + plural.get(_describe(items[0]), "values") if items else "a list"
    return getattr(hint, "__name__", str(hint))


def _typed(hint: Any, value: Any, key: str) -> Any:
    """``value`` as the declared type ``hint`` wants it; ConfigError naming ``key`` otherwise."""
    if hint is Any:
        return value
    wrong = ConfigError(f"{key} must be {_describe(hint)}, got {value!r}")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        return _build(hint, value, key)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            if option is type(None):
                if value is None:
                    return None
                continue
            try:
                return _typed(option, value, key)
            except ConfigError:
                continue
        raise wrong
    if origin is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise wrong
        items = typing.get_args(hint)
        if len(items) == 2 and items[1] is Ellipsis:
            return tuple(_typed(items[0], item, f"{key}[{index}]") for index, item in enumerate(value))
        if items and len(value) != len(items):
            raise ConfigError(f"{key} must have {len(items)} items, got {value!r}")
        if not items:
            return tuple(value)
        return tuple(_typed(item_hint, item, f"{key}[{index}]")
                     for index, (item_hint, item) in enumerate(zip(items, value)))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if isinstance(value, hint):
            return value
        try:
            return hint(value)
        except ValueError:
            raise wrong from None
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong
        return float(value)
    if hint is int or hint is bool:
        if isinstance(value, bool) != (hint is bool) or not isinstance(value, int):
            raise wrong
        return value
    if isinstance(hint, type):
        if not isinstance(value, hint):
            raise wrong
        return value
    raise ConfigError(f"{key}: the settings loader cannot read a {hint!r}")


# ---- overrides -------------------------------------------------------------------------------------------

def _override_all(instance: Any, overrides: Mapping[str, Any], where: str) -> Any:
    for dotted, value in overrides.items():
        instance = _override(instance, str(dotted).split("."), value, where, dotted)
    return instance


def _override(section: Any, path: list[str], value: Any, where: str, dotted: str) -> Any:
    """``section`` with the key at ``path`` set to ``value`` (unchecked: the caller checks the whole tree)."""
    fields = {f.name: f for f in dataclasses.fields(section)}
    name, rest = path[0], path[1:]
    if name not in fields:
        raise ConfigError(f"override {dotted!r}: {_unknown(where, name, {} if rest else value, fields)}")
    key = _key(where, name)
    hint = typing.get_type_hints(type(section))[name]
    if rest:
        if not dataclasses.is_dataclass(hint):
            raise ConfigError(f"override {dotted!r}: {key} is a key, not a section")
        updated = _override(getattr(section, name), rest, value, key, dotted)
    else:
        if isinstance(value, str) and fields[name].metadata.get(READ_WITH) is None:
            value = _parse_text(hint, value)
        elif isinstance(value, str):
            value = _parse_toml(value, value)
        updated = _convert(fields[name], hint, value, key)
    try:
        return dataclasses.replace(section, **{name: updated})
    except ValueError as error:  # a section that checks itself on construction
        raise ConfigError(str(error)) from None


_BOOL_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _parse_toml(text: str, otherwise: Any) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return otherwise


def _parse_text(hint: Any, text: str) -> Any:
    """An override's text as a value for ``hint``: strings stay as typed, the rest reads as TOML."""
    if hint is str:
        return text
    parsed = _parse_toml(text, None)
    if parsed is not None:
        return parsed
    if typing.get_origin(hint) is tuple:  # [a, b] or a,b: a list of bare words
        inner = text.strip()
        if inner.startswith("[") and inner.endswith("]"):
            inner = inner[1:-1]
        return [item.strip().strip("'\"") for item in inner.split(",") if item.strip()]
    if hint is bool and text.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[text.strip().lower()]
    return text


def _check_tree(instance: Any) -> None:
    """Run every section's ``check()``, innermost sections first."""
    for field in dataclasses.fields(instance):
        value = getattr(instance, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            _check_tree(value)
    if isinstance(instance, Checked):
        instance.check()
