"""The contract's values as frozen dataclasses.

Everything inside the daemon, the intent engine and the client library speaks these types; the protobuf
classes appear only at the gRPC edge, converted in :mod:`pushkin.proto.convert`. Offsets are Unicode code
points, which is what Python's ``str`` indexes, so ``text[start:end]`` is always the range an edit names.

This is the only place in Python that lists the contract's fields (docs/contract.md): a dataclass has its
protobuf message's field names, an enum member its protobuf value's name, and an enum value is the name
the bridge's JSON uses. The conversions to protobuf and to JSON are derived from these annotations.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Selection:
    """A selection in code points; ``anchor == active`` is a plain cursor."""

    anchor: int
    active: int

    @classmethod
    def cursor(cls, offset: int) -> Selection:
        return cls(offset, offset)

    @classmethod
    def span(cls, start: int, end: int) -> Selection:
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
    EXPIRED = "expired"  # the editor refused the batch: it came (or would have been applied) after its expiry


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
    expires_at_unix_ms: int = 0  # an editor refuses the batch (EXPIRED) from this Unix time on; 0: never

    def expired(self, now_unix_ms: int) -> bool:
        return bool(self.expires_at_unix_ms) and now_unix_ms >= self.expires_at_unix_ms


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


class ListenKey(enum.Enum):
    PRESS = "press"  # push-to-talk pressed / toggle pressed
    RELEASE = "release"  # push-to-talk released


@dataclass(frozen=True)
class SetListening:
    """A change to the listening state or mode (the contract's SetListeningRequest); None leaves a part as it is."""

    state: ListenState | None = None
    mode: ListenMode | None = None
    key: ListenKey | None = None
    intent_mode: IntentMode | None = None


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


# ---------------------------------------------------------------------------------------------------
# The Connect stream's messages (editor -> daemon), as values.
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hello:
    """The first message an editor sends on its Connect stream."""

    editor_name: str
    editor_version: str = ""
    protocol_version: int = 1
    capabilities: tuple[str, ...] = ()
    token: str = ""


@dataclass(frozen=True)
class OpenDocument:
    document_id: str
    text: str
    version: int
    selection: Selection = Selection(0, 0)
    language_id: str = ""
    path: str = ""


@dataclass(frozen=True)
class UpdateDocument:
    """A change in the editor: ``text`` (the whole new text) or ``changes`` (relative to the previous text);
    neither means only the selection moved (``selection`` None: it did not move either)."""

    document_id: str
    version: int
    text: str | None = None
    changes: tuple[TextEdit, ...] = ()
    selection: Selection | None = None


@dataclass(frozen=True)
class CloseDocument:
    document_id: str


@dataclass(frozen=True)
class Focus:
    document_id: str = ""  # with focused=False: the editor lost focus altogether
    focused: bool = True


@dataclass(frozen=True)
class ProposalDecision:
    proposal_id: int
    accept: bool


EditorEvent = Hello | OpenDocument | UpdateDocument | CloseDocument | Focus | EditResult | ProposalDecision


# ---------------------------------------------------------------------------------------------------
# The Connect stream's messages (daemon -> editor), as values.
# ---------------------------------------------------------------------------------------------------


class ErrorCode(enum.Enum):
    BAD_MESSAGE = "bad-message"
    UNKNOWN_DOCUMENT = "unknown-document"
    BAD_RANGE = "bad-range"
    TOO_LARGE = "too-large"
    UNAUTHENTICATED = "unauthenticated"
    UNSUPPORTED_VERSION = "unsupported-version"
    UNKNOWN_BATCH = "unknown-batch"


@dataclass(frozen=True)
class ProtocolError:
    """A problem with something the editor sent (the contract's Error); ``fatal`` closes the stream."""

    code: ErrorCode
    message: str
    document_id: str = ""
    fatal: bool = False


@dataclass(frozen=True)
class Proposal:
    proposal_id: int
    document_id: str
    base_version: int
    edits: tuple[TextEdit, ...]
    description: str = ""


@dataclass(frozen=True)
class EditorInfo:
    session_id: str
    editor_name: str
    document_ids: tuple[str, ...] = ()
    focused_document_id: str = ""


@dataclass(frozen=True)
class Component:
    """A part of the daemon and its state: "ready", "loading", "missing", "error" or "disabled"."""

    name: str
    state: str
    detail: str = ""


@dataclass(frozen=True)
class DaemonStatus:
    daemon_version: str
    state: ListenState
    listen_mode: ListenMode
    intent_mode: IntentMode
    editors: tuple[EditorInfo, ...] = ()
    focused_document_id: str = ""
    components: tuple[Component, ...] = ()
    recent_transcripts: tuple[Transcript, ...] = ()
    utterances: int = 0
    listen_address: str = ""
    uptime_s: float = 0.0


@dataclass(frozen=True)
class Welcome:
    daemon_version: str
    session_id: str
    protocol_version: int = 1
    capabilities: tuple[str, ...] = ()
    status: DaemonStatus | None = None


DaemonEvent = Welcome | EditBatch | Transcript | StatusNotice | ProtocolError | Proposal


# ---------------------------------------------------------------------------------------------------
# SendUtterance and StreamAudio results.
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendUtterance:
    """A transcript injected as if spoken (the contract's SendUtteranceRequest); 0 and "" mean the defaults."""

    text: str
    document_id: str = ""
    pause_before_s: float = 0.0
    pause_after_s: float = 0.0
    language: str = ""
    timeout_s: float = 0.0


@dataclass(frozen=True)
class SentBatch:
    batch: EditBatch
    outcome: EditOutcome
    editor: str = ""  # the session that received it


@dataclass(frozen=True)
class UtteranceResult:
    """What one utterance did: the contract's SendUtteranceResponse."""

    intent: Intent
    batches: tuple[SentBatch, ...] = ()
    message: str = ""
    document_id: str = ""
    applied: bool = False
    final_text: str = ""
    final_selection: Selection | None = None


@dataclass(frozen=True)
class AudioStart:
    sample_rate: int = 16000
    channels: int = 1
    sample_width: int = 2
    document_id: str = ""
    language: str = ""
    act: bool = True


@dataclass(frozen=True)
class SpeechBoundary:
    utterance_id: str
    started: bool
    time_s: float


@dataclass(frozen=True)
class UtteranceDecided:
    utterance_id: str
    result: UtteranceResult


RecognitionUpdate = SpeechBoundary | Transcript | UtteranceDecided | StatusNotice
