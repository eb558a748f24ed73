"""The daemon's settings: a frozen dataclass, loaded from the config file, overridden by flags.

The file is ``$XDG_CONFIG_HOME/pushkin/config.toml`` (or ``config.yaml``); each top-level table is one
section, a field of :class:`Settings` whose type is a frozen dataclass. A missing file means all defaults;
an unknown section or key, or a value of the wrong type, is an error naming the file and the key. Another
part of the daemon adds its own section by adding a field (with a default instance) to :class:`Settings`;
loading, checking and ``--set section.key=value`` overrides follow from the dataclass itself
(:mod:`pushkin.config` is the one loader; docs/configuration.md is generated from these classes).

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
span several keys; it runs after loading and the overrides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pushkin.config import ConfigError, apply_overrides, find_config_file, load, read_config_file
from pushkin.persona.settings import PersonaSettings

from .hearing.settings import HearingSettings
from .intent.settings import IntentSettings
from .model_settings import ModelSettings
from .voice.settings import VoiceSettings

SettingsError = ConfigError  # the name the daemon and its callers catch

__all__ = ["Settings", "SettingsError", "apply_overrides", "load_settings"]


@dataclass(frozen=True)
class ServerSettings:
    """Where the daemon listens and who may connect."""

    listen: str = ""  # unix:///path or tcp://host:port; "" = the default Unix socket
    token_file: str = ""  # "" = $XDG_CONFIG_HOME/pushkin/token (used for TCP only)
    allow_remote: bool = False  # listen on a non-loopback TCP address (token still required)
    shutdown_grace_s: float = 2.0  # on stop, editors and streams get this long to finish
    hello_timeout_s: float = 10.0  # an editor must say Hello within this time


@dataclass(frozen=True)
class LimitSettings:
    """Bounds on what one editor or call may make the daemon hold."""

    max_message_bytes: int = 32 * 1024 * 1024  # one gRPC message, either direction
    max_document_chars: int = 8_000_000  # code points per document
    max_documents_per_editor: int = 1024  # documents one editor may have open with the daemon
    max_editors: int = 1024  # editors connected at once
    max_utterance_chars: int = 10_000  # a longer utterance is ignored with a notice
    audio_queue_chunks: int = 16  # StreamAudio back-pressure: at most this many 64 KiB chunks queued
    recent_transcripts: int = 20  # transcripts `pushkin status` shows


@dataclass(frozen=True)
class EditSettings:
    """How long the daemon waits for editors to apply its edits."""

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


def load_settings(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings from ``path`` (default: the XDG config file, which may be missing), then ``overrides``.

    An explicitly given ``path`` must exist. TOML or YAML (by the suffix); :mod:`pushkin.config` does the
    reading, checking and overriding.
    """
    if path is not None:
        path = Path(path).expanduser()
    else:
        path = find_config_file()
    table = read_config_file(path) if path is not None else {}
    return load(Settings, table, overrides, source=str(path) if path is not None else "")
