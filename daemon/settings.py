"""The daemon's settings: a frozen dataclass, loaded from TOML, overridden by flags.

The file is ``$XDG_CONFIG_HOME/pushkin/config.toml``; each top-level table is one section, a field of
:class:`Settings` whose type is a frozen dataclass. A missing file means all defaults; an unknown section
or key, or a value of the wrong type, is an error naming the file and the key. Another part of the daemon
adds its own section by adding a field (with a default instance) to :class:`Settings`; loading, checking
and ``--set section.key=value`` overrides follow from the dataclass itself.

Example::

    [server]
    listen = "tcp://127.0.0.1:7421"     # default: unix://$XDG_RUNTIME_DIR/pushkin/pushkin.sock
    token_file = "~/.config/pushkin/token"

    [edits]
    timeout_s = 5.0
    max_replans = 3

    [hearing.microphone]
    enabled = true                      # false (or `pushkin serve --no-mic`): no microphone loop
    [hearing.recognizer]
    model = "base"

Nested tables are sections of their section (``[hearing.vad]``); ``--set hearing.vad.hangover_ms=300``
reaches them the same way. A section class may define ``check()`` (raising ValueError) for rules that
span several keys; it runs after loading and after every override.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from pushkin.persona.settings import PersonaSettings
from pushkin.proto.endpoint import default_config_path

from .hearing.settings import HearingSettings
from .intent.settings import IntentSettings
from .model_settings import ModelSettings
from .voice.settings import VoiceSettings


class SettingsError(ValueError):
    """A settings file or override that cannot be used; the message names the key and what is wrong."""


@dataclass(frozen=True)
class ServerSettings:
    listen: str = ""  # unix:///path or tcp://host:port; "" = the default Unix socket
    token_file: str = ""  # "" = $XDG_CONFIG_HOME/pushkin/token (used for TCP only)
    allow_remote: bool = False  # listen on a non-loopback TCP address (token still required)
    shutdown_grace_s: float = 2.0
    hello_timeout_s: float = 10.0  # an editor must say Hello within this time


@dataclass(frozen=True)
class LimitSettings:
    max_message_bytes: int = 32 * 1024 * 1024  # one gRPC message, either direction
    max_document_chars: int = 8_000_000  # code points per document
    max_documents_per_editor: int = 1024
    max_editors: int = 1024
    max_utterance_chars: int = 10_000
    audio_queue_chunks: int = 16  # StreamAudio back-pressure: at most this many 64 KiB chunks queued
    recent_transcripts: int = 20


@dataclass(frozen=True)
class EditSettings:
    timeout_s: float = 5.0  # default wait for an editor's EditResult; the batch expires at the same moment
    max_replans: int = 3  # re-plans after STALE answers before the utterance is dropped with a notice
    max_timeout_s: float = 60.0  # the longest wait a caller may ask for (SendUtterance.timeout_s)
    answer_grace_s: float = 1.0  # after a batch expires, how long its answer may still take to arrive

    def check(self) -> None:
        for name in ("timeout_s", "max_timeout_s", "answer_grace_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"edits.{name} must be a positive number of seconds, not {value}")
        if self.timeout_s > self.max_timeout_s:
            raise ValueError(f"edits.timeout_s ({self.timeout_s:g}) is above edits.max_timeout_s ({self.max_timeout_s:g})")


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    edits: EditSettings = field(default_factory=EditSettings)
    intent: IntentSettings = field(default_factory=IntentSettings)
    hearing: HearingSettings = field(default_factory=HearingSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    persona: PersonaSettings = field(default_factory=PersonaSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)


def _check_value(where: str, expected: Any, value: Any) -> Any:
    """``value`` as the field type ``expected`` wants it (ints widen to floats); SettingsError otherwise."""
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(expected):
            if option is type(None) and value is None:
                return None
            try:
                return _check_value(where, option, value)
            except SettingsError:
                continue
        raise SettingsError(f"{where}: {value!r} is not a {expected}")
    if isinstance(expected, type) and issubclass(expected, enum.Enum):
        if isinstance(value, expected):
            return value
        try:
            return expected(value)
        except ValueError:
            choices = ", ".join(repr(member.value) for member in expected)
            raise SettingsError(f"{where}: {value!r} is not one of {choices}") from None
    if origin is tuple:
        items = typing.get_args(expected)
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise SettingsError(f"{where}: expected a list such as [\"en\", \"ru\"], got {value!r}")
        item_type = items[0] if items else Any
        return tuple(value if item_type is Any else _check_value(f"{where}[{index}]", item_type, item)
                     for index, item in enumerate(value))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is bool and not isinstance(value, bool):
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise SettingsError(f"{where}: expected an integer, got {value!r}")
    if expected in (str, float) and not isinstance(value, expected):
        raise SettingsError(f"{where}: expected a {expected.__name__}, got {value!r}")
    return value


def _build(cls: type, table: Mapping[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in known:
            if not where:
                raise SettingsError(f"unknown section [{key}] (known: {', '.join(sorted(known))})")
            raise SettingsError(f"[{where}]: unknown key {key!r} (known: {', '.join(sorted(known))})")
        expected = hints[key]
        if dataclasses.is_dataclass(expected):
            if not isinstance(value, Mapping):
                raise SettingsError(f"{where}.{key}: expected a table [{key}]")
            if hasattr(expected, "from_table"):
                # A section with its own parser (patterns, nested tables): its errors name the key at fault.
                try:
                    values[key] = expected.from_table(value)
                except ValueError as error:
                    raise SettingsError(str(error)) from None
            else:
                values[key] = _build(expected, value, f"{where}.{key}" if where else key)
        else:
            values[key] = _check_value(f"{where}.{key}" if where else key, expected, value)
    built = cls(**values)
    if hasattr(built, "check"):
        try:
            built.check()
        except ValueError as error:
            raise SettingsError(str(error)) from None
    return built


def build_section(cls: type, table: Mapping[str, Any] | None, name: str) -> Any:
    """One section (a frozen dataclass) from its table, checked like the settings file: SettingsError."""
    return _build(cls, table or {}, name)


def _leaf_type(cls: type, path: list[str]) -> Any:
    """The declared type at ``path`` inside the dataclass ``cls`` (None when the path names no field)."""
    for index, name in enumerate(path):
        hints = typing.get_type_hints(cls)
        if name not in hints:
            return None
        if index == len(path) - 1:
            return hints[name]
        cls = hints[name]
        if not dataclasses.is_dataclass(cls):
            return None
    return None


def _nested(path: list[str], value: Any) -> dict:
    for name in reversed(path[1:]):
        value = {name: value}
    return {path[0]: value}


def _merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _parse_override(text: str) -> Any:
    """A flag's value as TOML would read it (numbers, booleans, quoted strings); bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(settings: Settings, overrides: Mapping[str, Any]) -> Settings:
    """``settings`` with ``{"section.key": value}`` replaced; string values are parsed like TOML values."""
    for dotted, value in overrides.items():
        section_name, _, key = dotted.partition(".")
        if not key or not hasattr(settings, section_name):
            raise SettingsError(f"override {dotted!r}: expected SECTION.KEY with a known section "
                                f"({', '.join(f.name for f in dataclasses.fields(Settings))})")
        section = getattr(settings, section_name)
        path = key.split(".")
        if isinstance(value, str) and _leaf_type(type(section), path) is not str:
            value = _parse_override(value)
        if hasattr(type(section), "from_table"):
            hints = typing.get_type_hints(type(section))
            if key not in hints or dataclasses.is_dataclass(hints[key]) or typing.get_origin(hints[key]) is not None:
                raise SettingsError(f"override {dotted!r}: only plain keys of [{section_name}] can be set from the "
                                    "command line; put the rest in the config file")
            try:
                updated = dataclasses.replace(section, **{key: _check_value(dotted, hints[key], value)})
            except ValueError as error:  # the section's own range checks (__post_init__)
                raise SettingsError(f"override {dotted!r}: {error}") from None
        else:
            if _leaf_type(type(section), path) is None:
                raise SettingsError(f"override {dotted!r}: [{section_name}] has no key {key!r}")
            updated = _build(type(section), _merge(_section_table(section), _nested(path, value)), section_name)
        settings = dataclasses.replace(settings, **{section_name: updated})
    return settings


def _section_table(section: Any) -> dict:
    """A section as the table it could have been loaded from (nested sections as nested tables)."""
    return {f.name: _section_table(getattr(section, f.name)) if dataclasses.is_dataclass(getattr(section, f.name))
            else getattr(section, f.name) for f in dataclasses.fields(section)}


def load_settings(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from ``path`` (default: the XDG config file, which may be missing), then ``overrides``.

    An explicitly given ``path`` must exist.
    """
    explicit = path is not None
    path = Path(path).expanduser() if explicit else default_config_path()
    table: Mapping[str, Any] = {}
    if path.exists():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise SettingsError(f"{path}: not valid TOML: {error}") from error
    elif explicit:
        raise SettingsError(f"{path}: no such settings file")
    try:
        settings = _build(Settings, table, "")
    except SettingsError as error:
        raise SettingsError(f"{path}: {error}") from None
    return apply_overrides(settings, overrides or {})
