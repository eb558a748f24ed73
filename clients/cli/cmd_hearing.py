"""Hearing from the command line: `pushkin listen`, `transcribe`, `devices`, and the listening controls
`pushkin mode`, `ptt`, `sleep`, `wake`, `mute`, `unmute` (SetListening).

Nothing heavy is imported at module level: the recognizer, the VAD and gRPC load inside the handlers,
through the daemon's entry modules (the assembly and the audio sources).
"""

from __future__ import annotations

import argparse
import sys

ORDER = 30


def register(subparsers) -> None:
    listen = subparsers.add_parser(
        "listen",
        help="stream the microphone (or a file) to the daemon; print transcripts and intents",
        description="Streams audio to the running daemon over StreamAudio and prints interim and final "
        "transcripts and the intents decided for them.",
    )
    listen.add_argument("--wav", metavar="FILE", help="stream this audio file (any format libsndfile reads, "
                        "paced in real time) instead of the microphone")
    listen.add_argument("--address", default=None, metavar="URI",
                        help="unix:///path or tcp://host:port (default: $PUSHKIN_ADDRESS or the daemon's socket)")
    listen.add_argument("--token-file", default=None, metavar="PATH", help="the daemon's token file (TCP)")
    listen.add_argument("--language", default="", help="language hint: en, ru")
    listen.add_argument("--act", action="store_true", help="apply the decided intents to the focused document")
    listen.add_argument("--document-id", default="", help="(--act) the target document (default: the focused one)")
    listen.add_argument("--device", default=None, help="microphone name or index (default: the system input)")
    listen.set_defaults(handler=run_listen)

    transcribe = subparsers.add_parser(
        "transcribe",
        help="recognize an audio file in-process and print timed utterances",
        description="Cuts FILE into utterances with the VAD and recognizes each with faster-whisper, in this process.",
    )
    transcribe.add_argument("file", metavar="FILE")
    transcribe.add_argument("--model", default=None, help="faster-whisper model name or CTranslate2 folder (default: base, from `pushkin models fetch`)")
    transcribe.add_argument("--language", action="append", default=None, help="allowed language (repeat); default en and ru")
    transcribe.add_argument("--no-download", action="store_true", help="use only models already on disk")
    transcribe.set_defaults(handler=run_transcribe)

    devices = subparsers.add_parser("devices", help="list audio input devices")
    devices.set_defaults(handler=run_devices)

    mode = subparsers.add_parser("mode", help="how the daemon decides when you speak: always-on, push-to-talk, toggle",
                                 description="always-on: the VAD finds utterances by itself; push-to-talk: only while "
                                 "the key is held (`pushkin ptt press` / `release`); toggle: each press starts or "
                                 "ends an utterance.")
    mode.add_argument("mode", choices=("always-on", "push-to-talk", "toggle"))
    _listening_flags(mode)
    ptt = subparsers.add_parser("ptt", help="the push-to-talk / toggle key: press or release")
    ptt.add_argument("key", choices=("press", "release"))
    _listening_flags(ptt)
    for name, doing in (("sleep", "ignore speech until a wake phrase (\"wake up\", «проснись»)"),
                        ("wake", "act on speech again"),
                        ("mute", "close the microphone"),
                        ("unmute", "open the microphone again")):
        command = subparsers.add_parser(name, help=doing)
        _listening_flags(command)


def _listening_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default=None, metavar="URI",
                        help="unix:///path or tcp://host:port (default: $PUSHKIN_ADDRESS or the daemon's socket)")
    parser.add_argument("--token-file", default=None, metavar="PATH", help="the daemon's token file (TCP)")
    parser.set_defaults(handler=run_set_listening)


def run_set_listening(args: argparse.Namespace) -> int:
    """`pushkin mode|ptt|sleep|wake|mute|unmute`: one SetListening call; prints the state it leaves."""
    import asyncio

    from pushkin.clients.connection import DaemonUnavailable
    from pushkin.clients.daemon_client import DaemonCallError, DaemonClient
    from pushkin.proto.types import ListenKey, ListenMode, ListenState, SetListening

    change = {
        "mode": lambda: SetListening(mode=ListenMode(getattr(args, "mode", "always-on"))),
        "ptt": lambda: SetListening(key=ListenKey.PRESS if getattr(args, "key", "") == "press" else ListenKey.RELEASE),
        "sleep": lambda: SetListening(state=ListenState.SLEEPING),
        "wake": lambda: SetListening(state=ListenState.LISTENING),
        "mute": lambda: SetListening(state=ListenState.MUTED),
        "unmute": lambda: SetListening(state=ListenState.LISTENING),
    }[args.command]()

    async def call() -> int:
        try:
            client = DaemonClient(args.address, token_file=args.token_file)
        except (ValueError, OSError) as error:
            print(f"pushkin {args.command}: {error}", file=sys.stderr)
            return 2
        async with client:
            try:
                status = await client.change_listening(change)
            except (DaemonUnavailable, DaemonCallError) as error:
                print(f"pushkin {args.command}: {error}", file=sys.stderr)
                return 1
        print(f"state: {status.state.value}; mode: {status.listen_mode.value}")
        return 0

    return asyncio.run(call())


def run_devices(args: argparse.Namespace) -> int:
    from pushkin.daemon.hearing.sources import NoAudioDevice, list_input_devices

    try:
        inputs = list_input_devices()
    except NoAudioDevice as error:
        print(error, file=sys.stderr)
        return 1
    if not inputs:
        print("No audio input devices (no sound card, or the microphone is unplugged).")
        return 1
    for device in inputs:
        mark = "*" if device.is_default else " "
        print(f"{mark} {device.index:3d}  {device.name}  ({device.channels} ch, {device.default_sample_rate:.0f} Hz)")
    return 0


def run_transcribe(args: argparse.Namespace) -> int:
    import asyncio

    from pushkin.daemon.assembly import TranscribeError, transcribe_file

    def tell(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    async def main() -> int:
        count = 0
        async for t in transcribe_file(args.file, model=args.model or "", languages=tuple(args.language or ()),
                                       allow_download=not args.no_download, report=tell):
            count += 1
            print(f"[{t.start_s:7.2f} -> {t.end_s:7.2f}] ({t.language}) {t.text}", flush=True)
        if count == 0:
            print("No speech recognized.", file=sys.stderr)
        return 0

    try:
        return asyncio.run(main())
    except TranscribeError as error:
        print(f"pushkin transcribe: {error}", file=sys.stderr)
        return 1


def run_listen(args: argparse.Namespace) -> int:
    import asyncio

    return asyncio.run(_listen(args))


async def _listen(args: argparse.Namespace) -> int:
    import asyncio

    from pushkin.clients.connection import DaemonUnavailable
    from pushkin.clients.daemon_client import DaemonCallError, DaemonClient
    from pushkin.daemon.assembly import microphone
    from pushkin.daemon.hearing.sources import AudioSourceError, FileSource, read_audio_file
    from pushkin.proto.types import AudioStart

    try:
        if args.wav:
            await asyncio.to_thread(read_audio_file, args.wav)  # a bad file fails before anything is sent
            source = FileSource(args.wav, realtime=True)
        else:
            device = int(args.device) if args.device and args.device.isdigit() else args.device
            source = microphone(device)  # no sound card: say so now, not from inside the stream
    except AudioSourceError as error:
        hint = "" if args.wav else " To stream a recording instead: pushkin listen --wav FILE."
        print(f"pushkin listen: {error}{hint}", file=sys.stderr)
        return 1
    try:
        client = DaemonClient(args.address, token_file=args.token_file)
    except (ValueError, OSError) as error:
        print(f"pushkin listen: {error}", file=sys.stderr)
        return 2
    source_failure: list[AudioSourceError] = []

    async def pcm():
        try:
            async for chunk in source.chunks():
                yield chunk
        except AudioSourceError as error:  # the microphone went away: end the stream, say why below
            source_failure.append(error)

    start = AudioStart(document_id=args.document_id, language=args.language, act=args.act)
    async with client:
        try:
            async for update in client.stream_audio(pcm(), start):
                print_update(update)
        except (DaemonUnavailable, DaemonCallError) as error:
            print(f"pushkin listen: {error}", file=sys.stderr)
            return 1
    if source_failure:
        print(f"pushkin listen: {source_failure[0]}", file=sys.stderr)
        return 1
    return 0


def print_update(update) -> None:
    """One line per recognition update: boundaries, interim (~) and final (=) text, intents (→), notices (!)."""
    from pushkin.proto.types import SpeechBoundary, StatusNotice, Transcript, UtteranceDecided

    from .render import describe_edit

    if isinstance(update, SpeechBoundary):
        print(f"[{update.time_s:7.2f}] speech {'started' if update.started else 'ended'}", flush=True)
    elif isinstance(update, Transcript):
        if not update.final:
            print(f"~ {update.text}", flush=True)
        elif update.text:
            print(f"= {update.text}" + (f"  ({update.language})" if update.language else ""), flush=True)
        else:
            print("= (nothing recognized)", flush=True)
    elif isinstance(update, UtteranceDecided):
        result = update.result
        intent = result.intent
        label = intent.kind.value + (f" {intent.name}" if intent.name else "")
        print(f"→ {label}: {intent.text!r}" + (f" — {result.message}" if result.message else ""), flush=True)
        for sent in result.batches:
            print(f"  batch {sent.batch.batch_id} -> {sent.editor or '?'} {result.document_id}: {sent.outcome.value}")
            for edit in sent.batch.edits:
                print("    " + describe_edit(edit), flush=True)
    elif isinstance(update, StatusNotice):
        print(f"! {update.message}", flush=True)
