from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListenState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LISTEN_STATE_UNSPECIFIED: _ClassVar[ListenState]
    LISTENING: _ClassVar[ListenState]
    SLEEPING: _ClassVar[ListenState]
    MUTED: _ClassVar[ListenState]
    NO_AUDIO: _ClassVar[ListenState]

class ListenMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LISTEN_MODE_UNSPECIFIED: _ClassVar[ListenMode]
    ALWAYS_ON: _ClassVar[ListenMode]
    PUSH_TO_TALK: _ClassVar[ListenMode]
    TOGGLE: _ClassVar[ListenMode]

class IntentMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INTENT_MODE_UNSPECIFIED: _ClassVar[IntentMode]
    DICTATION: _ClassVar[IntentMode]
    COMMAND_ONLY: _ClassVar[IntentMode]
LISTEN_STATE_UNSPECIFIED: ListenState
LISTENING: ListenState
SLEEPING: ListenState
MUTED: ListenState
NO_AUDIO: ListenState
LISTEN_MODE_UNSPECIFIED: ListenMode
ALWAYS_ON: ListenMode
PUSH_TO_TALK: ListenMode
TOGGLE: ListenMode
INTENT_MODE_UNSPECIFIED: IntentMode
DICTATION: IntentMode
COMMAND_ONLY: IntentMode

class Selection(_message.Message):
    __slots__ = ("anchor", "active")
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    anchor: int
    active: int
    def __init__(self, anchor: _Optional[int] = ..., active: _Optional[int] = ...) -> None: ...

class TextEdit(_message.Message):
    __slots__ = ("start", "end", "text")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    text: str
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class EditorMessage(_message.Message):
    __slots__ = ("hello", "open", "update", "close", "focus", "edit_result", "proposal_decision")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    FOCUS_FIELD_NUMBER: _ClassVar[int]
    EDIT_RESULT_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_DECISION_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    open: OpenDocument
    update: UpdateDocument
    close: CloseDocument
    focus: Focus
    edit_result: EditResult
    proposal_decision: ProposalDecision
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., open: _Optional[_Union[OpenDocument, _Mapping]] = ..., update: _Optional[_Union[UpdateDocument, _Mapping]] = ..., close: _Optional[_Union[CloseDocument, _Mapping]] = ..., focus: _Optional[_Union[Focus, _Mapping]] = ..., edit_result: _Optional[_Union[EditResult, _Mapping]] = ..., proposal_decision: _Optional[_Union[ProposalDecision, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("editor_name", "editor_version", "protocol_version", "capabilities", "token")
    EDITOR_NAME_FIELD_NUMBER: _ClassVar[int]
    EDITOR_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    editor_name: str
    editor_version: str
    protocol_version: int
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    token: str
    def __init__(self, editor_name: _Optional[str] = ..., editor_version: _Optional[str] = ..., protocol_version: _Optional[int] = ..., capabilities: _Optional[_Iterable[str]] = ..., token: _Optional[str] = ...) -> None: ...

class OpenDocument(_message.Message):
    __slots__ = ("document_id", "text", "version", "selection", "language_id", "path")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    text: str
    version: int
    selection: Selection
    language_id: str
    path: str
    def __init__(self, document_id: _Optional[str] = ..., text: _Optional[str] = ..., version: _Optional[int] = ..., selection: _Optional[_Union[Selection, _Mapping]] = ..., language_id: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class UpdateDocument(_message.Message):
    __slots__ = ("document_id", "version", "text", "changes", "selection")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    version: int
    text: str
    changes: _containers.RepeatedCompositeFieldContainer[TextEdit]
    selection: Selection
    def __init__(self, document_id: _Optional[str] = ..., version: _Optional[int] = ..., text: _Optional[str] = ..., changes: _Optional[_Iterable[_Union[TextEdit, _Mapping]]] = ..., selection: _Optional[_Union[Selection, _Mapping]] = ...) -> None: ...

class CloseDocument(_message.Message):
    __slots__ = ("document_id",)
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    def __init__(self, document_id: _Optional[str] = ...) -> None: ...

class Focus(_message.Message):
    __slots__ = ("document_id", "focused")
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FOCUSED_FIELD_NUMBER: _ClassVar[int]
    document_id: str
    focused: bool
    def __init__(self, document_id: _Optional[str] = ..., focused: _Optional[bool] = ...) -> None: ...

class EditResult(_message.Message):
    __slots__ = ("batch_id", "document_id", "outcome", "version", "text", "selection", "error")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[EditResult.Outcome]
        APPLIED: _ClassVar[EditResult.Outcome]
        STALE: _ClassVar[EditResult.Outcome]
        FAILED: _ClassVar[EditResult.Outcome]
        EXPIRED: _ClassVar[EditResult.Outcome]
    OUTCOME_UNSPECIFIED: EditResult.Outcome
    APPLIED: EditResult.Outcome
    STALE: EditResult.Outcome
    FAILED: EditResult.Outcome
    EXPIRED: EditResult.Outcome
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    batch_id: int
    document_id: str
    outcome: EditResult.Outcome
    version: int
    text: str
    selection: Selection
    error: str
    def __init__(self, batch_id: _Optional[int] = ..., document_id: _Optional[str] = ..., outcome: _Optional[_Union[EditResult.Outcome, str]] = ..., version: _Optional[int] = ..., text: _Optional[str] = ..., selection: _Optional[_Union[Selection, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class ProposalDecision(_message.Message):
    __slots__ = ("proposal_id", "accept")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_FIELD_NUMBER: _ClassVar[int]
    proposal_id: int
    accept: bool
    def __init__(self, proposal_id: _Optional[int] = ..., accept: _Optional[bool] = ...) -> None: ...

class DaemonMessage(_message.Message):
    __slots__ = ("welcome", "edit_batch", "transcript", "notice", "error", "proposal")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    EDIT_BATCH_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    edit_batch: EditBatch
    transcript: Transcript
    notice: StatusNotice
    error: Error
    proposal: Proposal
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., edit_batch: _Optional[_Union[EditBatch, _Mapping]] = ..., transcript: _Optional[_Union[Transcript, _Mapping]] = ..., notice: _Optional[_Union[StatusNotice, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ..., proposal: _Optional[_Union[Proposal, _Mapping]] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("daemon_version", "protocol_version", "session_id", "capabilities", "status")
    DAEMON_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    daemon_version: str
    protocol_version: int
    session_id: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    status: Status
    def __init__(self, daemon_version: _Optional[str] = ..., protocol_version: _Optional[int] = ..., session_id: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[Status, _Mapping]] = ...) -> None: ...

class EditBatch(_message.Message):
    __slots__ = ("batch_id", "document_id", "base_version", "edits", "selection_after", "undo_group", "description", "expires_at_unix_ms")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    EDITS_FIELD_NUMBER: _ClassVar[int]
    SELECTION_AFTER_FIELD_NUMBER: _ClassVar[int]
    UNDO_GROUP_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    batch_id: int
    document_id: str
    base_version: int
    edits: _containers.RepeatedCompositeFieldContainer[TextEdit]
    selection_after: Selection
    undo_group: str
    description: str
    expires_at_unix_ms: int
    def __init__(self, batch_id: _Optional[int] = ..., document_id: _Optional[str] = ..., base_version: _Optional[int] = ..., edits: _Optional[_Iterable[_Union[TextEdit, _Mapping]]] = ..., selection_after: _Optional[_Union[Selection, _Mapping]] = ..., undo_group: _Optional[str] = ..., description: _Optional[str] = ..., expires_at_unix_ms: _Optional[int] = ...) -> None: ...

class Proposal(_message.Message):
    __slots__ = ("proposal_id", "document_id", "base_version", "edits", "description")
    PROPOSAL_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    EDITS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    proposal_id: int
    document_id: str
    base_version: int
    edits: _containers.RepeatedCompositeFieldContainer[TextEdit]
    description: str
    def __init__(self, proposal_id: _Optional[int] = ..., document_id: _Optional[str] = ..., base_version: _Optional[int] = ..., edits: _Optional[_Iterable[_Union[TextEdit, _Mapping]]] = ..., description: _Optional[str] = ...) -> None: ...

class Transcript(_message.Message):
    __slots__ = ("utterance_id", "text", "final", "stable_prefix", "language", "start_s", "end_s")
    UTTERANCE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    STABLE_PREFIX_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    utterance_id: str
    text: str
    final: bool
    stable_prefix: str
    language: str
    start_s: float
    end_s: float
    def __init__(self, utterance_id: _Optional[str] = ..., text: _Optional[str] = ..., final: _Optional[bool] = ..., stable_prefix: _Optional[str] = ..., language: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ...) -> None: ...

class StatusNotice(_message.Message):
    __slots__ = ("level", "code", "message", "state", "document_id")
    class Level(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        LEVEL_UNSPECIFIED: _ClassVar[StatusNotice.Level]
        INFO: _ClassVar[StatusNotice.Level]
        WARNING: _ClassVar[StatusNotice.Level]
        ERROR: _ClassVar[StatusNotice.Level]
    LEVEL_UNSPECIFIED: StatusNotice.Level
    INFO: StatusNotice.Level
    WARNING: StatusNotice.Level
    ERROR: StatusNotice.Level
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    level: StatusNotice.Level
    code: str
    message: str
    state: ListenState
    document_id: str
    def __init__(self, level: _Optional[_Union[StatusNotice.Level, str]] = ..., code: _Optional[str] = ..., message: _Optional[str] = ..., state: _Optional[_Union[ListenState, str]] = ..., document_id: _Optional[str] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message", "document_id", "fatal")
    class Code(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CODE_UNSPECIFIED: _ClassVar[Error.Code]
        BAD_MESSAGE: _ClassVar[Error.Code]
        UNKNOWN_DOCUMENT: _ClassVar[Error.Code]
        BAD_RANGE: _ClassVar[Error.Code]
        TOO_LARGE: _ClassVar[Error.Code]
        UNAUTHENTICATED: _ClassVar[Error.Code]
        UNSUPPORTED_VERSION: _ClassVar[Error.Code]
        UNKNOWN_BATCH: _ClassVar[Error.Code]
    CODE_UNSPECIFIED: Error.Code
    BAD_MESSAGE: Error.Code
    UNKNOWN_DOCUMENT: Error.Code
    BAD_RANGE: Error.Code
    TOO_LARGE: Error.Code
    UNAUTHENTICATED: Error.Code
    UNSUPPORTED_VERSION: Error.Code
    UNKNOWN_BATCH: Error.Code
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FATAL_FIELD_NUMBER: _ClassVar[int]
    code: Error.Code
    message: str
    document_id: str
    fatal: bool
    def __init__(self, code: _Optional[_Union[Error.Code, str]] = ..., message: _Optional[str] = ..., document_id: _Optional[str] = ..., fatal: _Optional[bool] = ...) -> None: ...

class SendUtteranceRequest(_message.Message):
    __slots__ = ("text", "document_id", "pause_before_s", "pause_after_s", "language", "timeout_s")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAUSE_BEFORE_S_FIELD_NUMBER: _ClassVar[int]
    PAUSE_AFTER_S_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    text: str
    document_id: str
    pause_before_s: float
    pause_after_s: float
    language: str
    timeout_s: float
    def __init__(self, text: _Optional[str] = ..., document_id: _Optional[str] = ..., pause_before_s: _Optional[float] = ..., pause_after_s: _Optional[float] = ..., language: _Optional[str] = ..., timeout_s: _Optional[float] = ...) -> None: ...

class Intent(_message.Message):
    __slots__ = ("kind", "name", "args", "text", "source")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[Intent.Kind]
        DICTATION: _ClassVar[Intent.Kind]
        COMMAND: _ClassVar[Intent.Kind]
        IGNORED: _ClassVar[Intent.Kind]
    KIND_UNSPECIFIED: Intent.Kind
    DICTATION: Intent.Kind
    COMMAND: Intent.Kind
    IGNORED: Intent.Kind
    class ArgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    kind: Intent.Kind
    name: str
    args: _containers.ScalarMap[str, str]
    text: str
    source: str
    def __init__(self, kind: _Optional[_Union[Intent.Kind, str]] = ..., name: _Optional[str] = ..., args: _Optional[_Mapping[str, str]] = ..., text: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class SentBatch(_message.Message):
    __slots__ = ("batch", "outcome", "editor")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    EDITOR_FIELD_NUMBER: _ClassVar[int]
    batch: EditBatch
    outcome: EditResult.Outcome
    editor: str
    def __init__(self, batch: _Optional[_Union[EditBatch, _Mapping]] = ..., outcome: _Optional[_Union[EditResult.Outcome, str]] = ..., editor: _Optional[str] = ...) -> None: ...

class SendUtteranceResponse(_message.Message):
    __slots__ = ("intent", "batches", "message", "document_id", "applied", "final_text", "final_selection")
    INTENT_FIELD_NUMBER: _ClassVar[int]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    FINAL_TEXT_FIELD_NUMBER: _ClassVar[int]
    FINAL_SELECTION_FIELD_NUMBER: _ClassVar[int]
    intent: Intent
    batches: _containers.RepeatedCompositeFieldContainer[SentBatch]
    message: str
    document_id: str
    applied: bool
    final_text: str
    final_selection: Selection
    def __init__(self, intent: _Optional[_Union[Intent, _Mapping]] = ..., batches: _Optional[_Iterable[_Union[SentBatch, _Mapping]]] = ..., message: _Optional[str] = ..., document_id: _Optional[str] = ..., applied: _Optional[bool] = ..., final_text: _Optional[str] = ..., final_selection: _Optional[_Union[Selection, _Mapping]] = ...) -> None: ...

class AudioChunk(_message.Message):
    __slots__ = ("start", "pcm")
    START_FIELD_NUMBER: _ClassVar[int]
    PCM_FIELD_NUMBER: _ClassVar[int]
    start: AudioStart
    pcm: bytes
    def __init__(self, start: _Optional[_Union[AudioStart, _Mapping]] = ..., pcm: _Optional[bytes] = ...) -> None: ...

class AudioStart(_message.Message):
    __slots__ = ("sample_rate", "channels", "sample_width", "document_id", "language", "act")
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ACT_FIELD_NUMBER: _ClassVar[int]
    sample_rate: int
    channels: int
    sample_width: int
    document_id: str
    language: str
    act: bool
    def __init__(self, sample_rate: _Optional[int] = ..., channels: _Optional[int] = ..., sample_width: _Optional[int] = ..., document_id: _Optional[str] = ..., language: _Optional[str] = ..., act: _Optional[bool] = ...) -> None: ...

class SpeechBoundary(_message.Message):
    __slots__ = ("started", "time_s")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    TIME_S_FIELD_NUMBER: _ClassVar[int]
    started: bool
    time_s: float
    def __init__(self, started: _Optional[bool] = ..., time_s: _Optional[float] = ...) -> None: ...

class RecognitionEvent(_message.Message):
    __slots__ = ("utterance_id", "boundary", "transcript", "decided", "notice")
    UTTERANCE_ID_FIELD_NUMBER: _ClassVar[int]
    BOUNDARY_FIELD_NUMBER: _ClassVar[int]
    TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    utterance_id: str
    boundary: SpeechBoundary
    transcript: Transcript
    decided: SendUtteranceResponse
    notice: StatusNotice
    def __init__(self, utterance_id: _Optional[str] = ..., boundary: _Optional[_Union[SpeechBoundary, _Mapping]] = ..., transcript: _Optional[_Union[Transcript, _Mapping]] = ..., decided: _Optional[_Union[SendUtteranceResponse, _Mapping]] = ..., notice: _Optional[_Union[StatusNotice, _Mapping]] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EditorInfo(_message.Message):
    __slots__ = ("session_id", "editor_name", "document_ids", "focused_document_id")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    EDITOR_NAME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    FOCUSED_DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    editor_name: str
    document_ids: _containers.RepeatedScalarFieldContainer[str]
    focused_document_id: str
    def __init__(self, session_id: _Optional[str] = ..., editor_name: _Optional[str] = ..., document_ids: _Optional[_Iterable[str]] = ..., focused_document_id: _Optional[str] = ...) -> None: ...

class Component(_message.Message):
    __slots__ = ("name", "state", "detail")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: str
    detail: str
    def __init__(self, name: _Optional[str] = ..., state: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class Status(_message.Message):
    __slots__ = ("daemon_version", "state", "listen_mode", "intent_mode", "editors", "focused_document_id", "components", "recent_transcripts", "utterances", "listen_address", "uptime_s")
    DAEMON_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LISTEN_MODE_FIELD_NUMBER: _ClassVar[int]
    INTENT_MODE_FIELD_NUMBER: _ClassVar[int]
    EDITORS_FIELD_NUMBER: _ClassVar[int]
    FOCUSED_DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    RECENT_TRANSCRIPTS_FIELD_NUMBER: _ClassVar[int]
    UTTERANCES_FIELD_NUMBER: _ClassVar[int]
    LISTEN_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    daemon_version: str
    state: ListenState
    listen_mode: ListenMode
    intent_mode: IntentMode
    editors: _containers.RepeatedCompositeFieldContainer[EditorInfo]
    focused_document_id: str
    components: _containers.RepeatedCompositeFieldContainer[Component]
    recent_transcripts: _containers.RepeatedCompositeFieldContainer[Transcript]
    utterances: int
    listen_address: str
    uptime_s: float
    def __init__(self, daemon_version: _Optional[str] = ..., state: _Optional[_Union[ListenState, str]] = ..., listen_mode: _Optional[_Union[ListenMode, str]] = ..., intent_mode: _Optional[_Union[IntentMode, str]] = ..., editors: _Optional[_Iterable[_Union[EditorInfo, _Mapping]]] = ..., focused_document_id: _Optional[str] = ..., components: _Optional[_Iterable[_Union[Component, _Mapping]]] = ..., recent_transcripts: _Optional[_Iterable[_Union[Transcript, _Mapping]]] = ..., utterances: _Optional[int] = ..., listen_address: _Optional[str] = ..., uptime_s: _Optional[float] = ...) -> None: ...

class SetListeningRequest(_message.Message):
    __slots__ = ("state", "mode", "key", "intent_mode")
    class Key(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KEY_UNSPECIFIED: _ClassVar[SetListeningRequest.Key]
        PRESS: _ClassVar[SetListeningRequest.Key]
        RELEASE: _ClassVar[SetListeningRequest.Key]
    KEY_UNSPECIFIED: SetListeningRequest.Key
    PRESS: SetListeningRequest.Key
    RELEASE: SetListeningRequest.Key
    STATE_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    INTENT_MODE_FIELD_NUMBER: _ClassVar[int]
    state: ListenState
    mode: ListenMode
    key: SetListeningRequest.Key
    intent_mode: IntentMode
    def __init__(self, state: _Optional[_Union[ListenState, str]] = ..., mode: _Optional[_Union[ListenMode, str]] = ..., key: _Optional[_Union[SetListeningRequest.Key, str]] = ..., intent_mode: _Optional[_Union[IntentMode, str]] = ...) -> None: ...
