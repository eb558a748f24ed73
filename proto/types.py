"""The contract's values as frozen dataclasses.

Everything inside the daemon, the intent engine and the client library speaks these types; the protobuf
classes appear only at the gRPC edge, converted in :mod:`pushkin.proto.convert`. Offsets are Unicode code
points, which is what Python's ``str`` indexes, so ``text[start:end]`` is always the range an edit names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Selection:
    """A selection in code points; ``anchor == active`` is a plain cursor."""

    anchor: int
    active: int

    @classmethod
    def cursor(cls, offset: int) -> "Selection":
        return cls(offset, offset)

    @classmethod
    def span(cls, start: int, end: int) -> "Selection":
        """A forward selection of [start, end)."""
        return cls(start, end)

    @property
    def start(self) -> int:
        return min(self.anchor, self.active)

    @property
    def end(self) -> int:
        return max(self.anchor, self.active)

    @property
    def is_cursor(self) -> bool:
        return self.anchor == self.active


@dataclass(frozen=True)
class TextEdit:
    """Replace the code points [start, end) with ``text``."""

    start: int
    end: int
    text: str = ""

    @property
    def delta(self) -> int:
        """How much the text's length changes."""
        return len(self.text) - (self.end - self.start)


class EditOutcome(enum.Enum):
    UNANSWERED = "unanswered"  # the editor did not answer in time (or went away)
    APPLIED = "applied"
    STALE = "stale"
    FAILED = "failed"


@dataclass(frozen=True)
class EditBatch:
    """Edits planned against ``base_version`` of one document; see EditBatch in pushkin.proto."""

    batch_id: int
    document_id: str
    base_version: int
    edits: tuple[TextEdit, ...]
    selection_after: Selection | None = None
    undo_group: str = ""
    description: str = ""


@dataclass(frozen=True)
class EditResult:
    """An editor's answer to an EditBatch."""

    batch_id: int
    document_id: str
    outcome: EditOutcome
    version: int
    text: str | None = None
    selection: Selection | None = None
    error: str = ""


class IntentKind(enum.Enum):
    DICTATION = "dictation"
    COMMAND = "command"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Intent:
    """What an utterance was taken to mean."""

    kind: IntentKind
    name: str = ""  # the command's name; empty for dictation
    args: Mapping[str, str] = field(default_factory=dict)
    text: str = ""  # dictation: the text as inserted; command: the utterance
    source: str = "grammar"


class ListenState(enum.Enum):
    LISTENING = "listening"
    SLEEPING = "sleeping"
    MUTED = "muted"
    NO_AUDIO = "no-audio"


class ListenMode(enum.Enum):
    ALWAYS_ON = "always-on"
    PUSH_TO_TALK = "push-to-talk"
    TOGGLE = "toggle"


class IntentMode(enum.Enum):
    DICTATION = "dictation"
    COMMAND_ONLY = "command-only"


class NoticeLevel(enum.Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class StatusNotice:
    level: NoticeLevel
    code: str
    message: str
    state: ListenState | None = None
    document_id: str = ""


@dataclass(frozen=True)
class Transcript:
    utterance_id: str
    text: str
    final: bool
    stable_prefix: str = ""
    language: str = ""
    start_s: float = 0.0
    end_s: float = 0.0
