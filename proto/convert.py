"""The one place where protobuf messages and the contract's dataclasses (:mod:`pushkin.proto.types`) meet.

The daemon and the client library both convert here, at their gRPC edge, so that everything behind the
edge speaks frozen dataclasses. The conversion is derived, not written out per message: a dataclass's
fields have the names of its protobuf message's fields (:data:`MESSAGES` pairs them), an enum's members
have the names of the protobuf enum's values, and the field's annotation says the rest (``X | None``: the
field may be absent; ``tuple[X, ...]``: repeated; a dataclass: a nested message; ``Mapping``: a map).
Adding a field to the contract therefore means the .proto, the generated code and one dataclass field.

What stays explicit is what the wire cannot say: which value an unset (0) enum stands for
(:data:`UNSET_MEANS`), the oneof envelopes, and RecognitionEvent, whose ``utterance_id`` sits on the
envelope. Reading checks only what the wire format cannot (a oneof with nothing set raises
:class:`ConversionError`); ranges are checked by :mod:`pushkin.proto.textedit` where the text is known.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from . import types as t
from .v1 import pushkin_pb2 as pb

V = TypeVar("V")


class ConversionError(ValueError):
    """A protobuf message that does not describe any value of the contract (e.g. an empty oneof)."""


# Each dataclass and the protobuf message it is; their fields have the same names.
MESSAGES: dict[type, type[Message]] = {
    t.Selection: pb.Selection,
    t.TextEdit: pb.TextEdit,
    t.Hello: pb.Hello,
    t.OpenDocument: pb.OpenDocument,
    t.UpdateDocument: pb.UpdateDocument,
    t.CloseDocument: pb.CloseDocument,
    t.Focus: pb.Focus,
    t.EditResult: pb.EditResult,
    t.ProposalDecision: pb.ProposalDecision,
    t.Welcome: pb.Welcome,
    t.EditBatch: pb.EditBatch,
    t.Proposal: pb.Proposal,
    t.Transcript: pb.Transcript,
    t.StatusNotice: pb.StatusNotice,
    t.ProtocolError: pb.Error,
    t.Intent: pb.Intent,
    t.SentBatch: pb.SentBatch,
    t.UtteranceResult: pb.SendUtteranceResponse,
    t.AudioStart: pb.AudioStart,
    t.EditorInfo: pb.EditorInfo,
    t.Component: pb.Component,
    t.DaemonStatus: pb.Status,
    t.SetListening: pb.SetListeningRequest,
    t.SendUtterance: pb.SendUtteranceRequest,
}
_BY_FULL_NAME: dict[str, type] = {message.DESCRIPTOR.full_name: value for value, message in MESSAGES.items()}

# What an unset or unknown enum number reads as where the field cannot be None. EditOutcome.UNANSWERED is
# also what EditOutcome writes as 0: it has no protobuf name of its own.
UNSET_MEANS: dict[type[enum.Enum], enum.Enum] = {
    t.EditOutcome: t.EditOutcome.UNANSWERED,
    t.IntentKind: t.IntentKind.IGNORED,
    t.NoticeLevel: t.NoticeLevel.INFO,
    t.ErrorCode: t.ErrorCode.BAD_MESSAGE,
    t.ListenState: t.ListenState.LISTENING,
    t.ListenMode: t.ListenMode.ALWAYS_ON,
    t.IntentMode: t.IntentMode.DICTATION,
}


# ---------------------------------------------------------------------------------------------------
# The shape of a dataclass field, read once from its annotation.
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldShape:
    """One dataclass field as the conversions see it: ``item`` is the type of the value (of each item, when
    ``repeated``); ``optional`` means None is a value; ``required`` means the dataclass has no default."""

    name: str
    item: Any
    optional: bool = False
    repeated: bool = False
    mapping: bool = False
    required: bool = False

    @property
    def is_message(self) -> bool:
        return dataclasses.is_dataclass(self.item)

    @property
    def is_enum(self) -> bool:
        return isinstance(self.item, type) and issubclass(self.item, enum.Enum)


def shapes(cls: type) -> tuple[FieldShape, ...]:
    """The fields of a contract dataclass, in order."""
    # The cache is called through this plain ``type`` parameter: mypy does not count type[X] (what
    # type(value) and a TypeVar's class are) as Hashable, which functools.cache asks of its arguments.
    return _read_shapes(cls)


@functools.cache
def _read_shapes(cls: type) -> tuple[FieldShape, ...]:
    hints = typing.get_type_hints(cls)
    result = []
    for field in dataclasses.fields(cls):
        hint, optional, repeated, mapping = hints[field.name], False, False, False
        args = typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
            optional = True
            (hint,) = [a for a in args if a is not type(None)]
            args = typing.get_args(hint)
        origin = typing.get_origin(hint)
        if origin is tuple:
            repeated, hint = True, args[0]
        elif origin in (Mapping, dict):
            mapping, hint = True, args[1]
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        result.append(FieldShape(field.name, hint, optional, repeated, mapping, required))
    return tuple(result)


# ---------------------------------------------------------------------------------------------------
# Enums: by member name.
# ---------------------------------------------------------------------------------------------------


def enum_number(descriptor: FieldDescriptor, value: enum.Enum | None) -> int:
    if value is None:
        return 0
    named = descriptor.enum_type.values_by_name.get(value.name)
    if named is None:
        if UNSET_MEANS.get(type(value)) is not value:
            raise ConversionError(f"{type(value).__name__}.{value.name} has no value in {descriptor.enum_type.full_name}")
        return 0
    return named.number


def enum_value(descriptor: FieldDescriptor, cls: type[enum.Enum], number: int, *, optional: bool) -> enum.Enum | None:
    named = descriptor.enum_type.values_by_number.get(number)
    if number and named is not None and named.name in cls.__members__:
        return cls[named.name]
    return None if optional else UNSET_MEANS[cls]


# ---------------------------------------------------------------------------------------------------
# Messages: generic in both directions.
# ---------------------------------------------------------------------------------------------------


def to_pb(value: Any) -> Message:
    """A contract dataclass as its protobuf message (a field that is None is left unset)."""
    try:
        message = MESSAGES[type(value)]()
    except KeyError:
        raise ConversionError(f"not a contract value: {type(value).__name__}") from None
    descriptors = message.DESCRIPTOR.fields_by_name
    for shape in shapes(type(value)):
        item = getattr(value, shape.name)
        if item is None:
            continue
        target = getattr(message, shape.name)
        if shape.mapping:
            target.update(item)
        elif shape.repeated and shape.is_message:
            target.extend(to_pb(i) for i in item)
        elif shape.repeated:
            target.extend(item)
        elif shape.is_message:
            target.CopyFrom(to_pb(item))
        elif shape.is_enum:
            setattr(message, shape.name, enum_number(descriptors[shape.name], item))
        else:
            setattr(message, shape.name, item)
    return message


def from_pb(cls: type[V], message: Message) -> V:
    """A protobuf message as the contract dataclass ``cls``."""
    descriptors = message.DESCRIPTOR.fields_by_name
    values: dict[str, object] = {}
    for shape in shapes(cls):
        descriptor = descriptors[shape.name]
        raw = getattr(message, shape.name)
        if shape.mapping:
            values[shape.name] = dict(raw)
        elif shape.repeated:
            values[shape.name] = tuple(from_pb(shape.item, i) for i in raw) if shape.is_message else tuple(raw)
        elif shape.optional and descriptor.has_presence and not message.HasField(shape.name):
            values[shape.name] = None
        elif shape.is_message:
            values[shape.name] = from_pb(shape.item, raw)
        elif shape.is_enum:
            values[shape.name] = enum_value(descriptor, shape.item, raw, optional=shape.optional)
        else:
            values[shape.name] = raw
    return cls(**values)


def _kinds(envelope: type[Message]) -> dict[str, type]:
    """The oneof ``kind`` of an envelope message: field name -> the dataclass its message is."""
    return {f.name: _BY_FULL_NAME[f.message_type.full_name]
            for f in envelope.DESCRIPTOR.oneofs_by_name["kind"].fields if f.message_type is not None}


# The Connect stream's envelopes: oneof field name -> the dataclass it carries.
EDITOR_MESSAGE_KINDS: dict[str, type] = _kinds(pb.EditorMessage)
DAEMON_MESSAGE_KINDS: dict[str, type] = _kinds(pb.DaemonMessage)


def _wrap(envelope: type[Message], kinds: dict[str, type], value: Any) -> Message:
    for name, cls in kinds.items():
        if type(value) is cls:
            return envelope(**{name: to_pb(value)})
    raise ConversionError(f"not a {envelope.DESCRIPTOR.name}: {type(value).__name__}")


def _unwrap(message: Message, kinds: dict[str, type]) -> Any:
    kind = message.WhichOneof("kind")
    if kind is None:
        raise ConversionError(f"a {message.DESCRIPTOR.name} with nothing set in `kind`")
    return from_pb(kinds[kind], getattr(message, kind))


# ---------------------------------------------------------------------------------------------------
# Connect.
# ---------------------------------------------------------------------------------------------------


def editor_event_to_pb(event: t.EditorEvent) -> pb.EditorMessage:
    return _wrap(pb.EditorMessage, EDITOR_MESSAGE_KINDS, event)


def editor_event_from_pb(message: pb.EditorMessage) -> t.EditorEvent:
    if message.WhichOneof("kind") == "edit_result":
        outcome = message.edit_result.outcome
        if enum_value(pb.EditResult.DESCRIPTOR.fields_by_name["outcome"], t.EditOutcome, outcome,
                      optional=True) is None:
            # An editor always knows what it did; 0 on the wire means "no answer" only in the daemon's replies.
            raise ConversionError(f"EditResult.outcome {outcome} is not an outcome: use APPLIED, STALE, FAILED "
                                  "or EXPIRED")
    return _unwrap(message, EDITOR_MESSAGE_KINDS)


def daemon_event_to_pb(event: t.DaemonEvent) -> pb.DaemonMessage:
    return _wrap(pb.DaemonMessage, DAEMON_MESSAGE_KINDS, event)


def daemon_event_from_pb(message: pb.DaemonMessage) -> t.DaemonEvent:
    return _unwrap(message, DAEMON_MESSAGE_KINDS)


# ---------------------------------------------------------------------------------------------------
# The unary calls and StreamAudio.
# ---------------------------------------------------------------------------------------------------


def _listening_enum(name: str, cls: type[enum.Enum]):
    descriptor = pb.SetListeningRequest.DESCRIPTOR.fields_by_name[name]
    return (lambda value: enum_number(descriptor, value),
            lambda number: enum_value(descriptor, cls, number, optional=True))


# Enum numbers in SetListeningRequest (None: unset or unknown).
listen_state_to_pb, listen_state_from_pb = _listening_enum("state", t.ListenState)
listen_mode_to_pb, listen_mode_from_pb = _listening_enum("mode", t.ListenMode)
intent_mode_to_pb, intent_mode_from_pb = _listening_enum("intent_mode", t.IntentMode)


def status_to_pb(status: t.DaemonStatus) -> pb.Status:
    return to_pb(status)


def status_from_pb(message: pb.Status) -> t.DaemonStatus:
    return from_pb(t.DaemonStatus, message)


def selection_from_pb(message: pb.Selection) -> t.Selection:
    return from_pb(t.Selection, message)


def utterance_result_to_pb(result: t.UtteranceResult) -> pb.SendUtteranceResponse:
    return to_pb(result)


def utterance_result_from_pb(message: pb.SendUtteranceResponse) -> t.UtteranceResult:
    return from_pb(t.UtteranceResult, message)


def audio_start_to_pb(start: t.AudioStart) -> pb.AudioChunk:
    return pb.AudioChunk(start=to_pb(start))


def audio_start_from_pb(message: pb.AudioStart) -> t.AudioStart:
    return from_pb(t.AudioStart, message)


def recognition_to_pb(update: t.RecognitionUpdate) -> pb.RecognitionEvent:
    # The utterance id travels on the envelope, so these four are written out.
    if isinstance(update, t.SpeechBoundary):
        return pb.RecognitionEvent(utterance_id=update.utterance_id,
                                   boundary=pb.SpeechBoundary(started=update.started, time_s=update.time_s))
    if isinstance(update, t.Transcript):
        return pb.RecognitionEvent(utterance_id=update.utterance_id, transcript=to_pb(update))
    if isinstance(update, t.UtteranceDecided):
        return pb.RecognitionEvent(utterance_id=update.utterance_id, decided=to_pb(update.result))
    if isinstance(update, t.StatusNotice):
        return pb.RecognitionEvent(notice=to_pb(update))
    raise ConversionError(f"not a recognition event: {type(update).__name__}")


def recognition_from_pb(message: pb.RecognitionEvent) -> t.RecognitionUpdate:
    kind = message.WhichOneof("kind")
    if kind == "boundary":
        return t.SpeechBoundary(message.utterance_id, message.boundary.started, message.boundary.time_s)
    if kind == "transcript":
        return from_pb(t.Transcript, message.transcript)
    if kind == "decided":
        return t.UtteranceDecided(message.utterance_id, from_pb(t.UtteranceResult, message.decided))
    if kind == "notice":
        return from_pb(t.StatusNotice, message.notice)
    raise ConversionError("a RecognitionEvent with nothing set in `kind`")
