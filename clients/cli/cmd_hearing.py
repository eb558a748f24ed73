"""`pushkin listen`, `pushkin transcribe` and `pushkin devices`: hearing from the command line.

Nothing heavy is imported at module level: the recognizer, the VAD and gRPC load inside the handlers.
"""

from __future__ import annotations

import argparse
import os
import sys

ORDER = 30


def register(subparsers) -> None:
    listen = subparsers.add_parser(
        "listen",
        help="stream the microphone (or a file) to the daemon; print transcripts and intents",
        description="Streams audio to the running daemon over StreamAudio and prints interim and final "
        "transcripts and the intents decided for them.",
    )
    listen.add_argument("--wav", metavar="FILE", help="stream this audio file instead of the microphone")
    listen.add_argument("--address", default=None, help="the daemon's address (default: $PUSHKIN_ADDRESS or the user's socket)")
    listen.add_argument("--language", default="", help="language hint: en, ru")
    listen.add_argument("--act", action="store_true", help="apply the decided intents to the focused document")
    listen.add_argument("--device", default=None, help="microphone name or index (default: the configured or system input)")
    listen.set_defaults(handler=run_listen)

    transcribe = subparsers.add_parser(
        "transcribe",
        help="recognize an audio file in-process and print timed utterances",
        description="Cuts FILE into utterances with the VAD and recognizes each with faster-whisper, in this process.",
    )
    transcribe.add_argument("file", metavar="FILE")
    transcribe.add_argument("--model", default=None, help="faster-whisper model name or CTranslate2 folder (default: small)")
    transcribe.add_argument("--language", action="append", default=None, help="allowed language (repeat); default en and ru")
    transcribe.add_argument("--no-download", action="store_true", help="use only models already on disk")
    transcribe.set_defaults(handler=run_transcribe)

    devices = subparsers.add_parser("devices", help="list audio input devices")
    devices.set_defaults(handler=run_devices)


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
    import dataclasses

    from pushkin.daemon.hearing import AudioFileError, HearingSettings, ModelMissing, SpeechFrontEnd
    from pushkin.daemon.hearing.recognizer import FasterWhisperRecognizer
    from pushkin.daemon.hearing.sources import FileSource
    from pushkin.daemon.hearing_api import HeardTranscript
    from pushkin.proto.types import StatusNotice

    settings = HearingSettings()
    recognizer_settings = settings.recognizer
    changes = {"partials": False}
    if args.model:
        changes["model"] = args.model
    if args.language:
        changes["languages"] = tuple(args.language)
    if args.no_download:
        changes["allow_download"] = False
    recognizer_settings = dataclasses.replace(recognizer_settings, **changes)
    settings = dataclasses.replace(settings, recognizer=recognizer_settings)
    recognizer = FasterWhisperRecognizer(recognizer_settings, on_progress=lambda line: print(line, file=sys.stderr, flush=True))
    front = SpeechFrontEnd(settings, recognizer)

    async def main() -> int:
        from pushkin.daemon.hearing.sources import read_audio_file

        await asyncio.to_thread(read_audio_file, args.file)  # a bad file fails before the model loads
        await front.load()
        count = 0
        async for event in front.stream(FileSource(args.file).chunks()):
            if isinstance(event, HeardTranscript) and event.transcript.final:
                t = event.transcript
                if t.text:
                    count += 1
                    print(f"[{t.start_s:7.2f} -> {t.end_s:7.2f}] ({t.language}) {t.text}", flush=True)
            elif isinstance(event, StatusNotice):
                print(event.message, file=sys.stderr)
        if count == 0:
            print("No speech recognized.", file=sys.stderr)
        return 0

    try:
        return asyncio.run(main())
    except (AudioFileError, ModelMissing) as error:
        print(f"pushkin transcribe: {error}", file=sys.stderr)
        return 1
    finally:
        front.close()


def default_address() -> str:
    if os.environ.get("PUSHKIN_ADDRESS"):
        return os.environ["PUSHKIN_ADDRESS"]
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/pushkin-{os.getuid()}"
    return f"unix:{os.path.join(runtime, 'pushkin', 'pushkin.sock')}"


def run_listen(args: argparse.Namespace) -> int:
    import asyncio

    import grpc

    from pushkin.daemon.hearing.settings import MicrophoneSettings
    from pushkin.daemon.hearing.sources import AudioSourceError, FileSource, MicrophoneSource
    from pushkin.proto.v1 import pushkin_pb2 as pb
    from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

    address = args.address or default_address()
    if args.wav:
        source = FileSource(args.wav, realtime=True)
    else:
        source = MicrophoneSource(MicrophoneSettings(device=args.device))

    async def requests():
        yield pb.AudioChunk(start=pb.AudioStart(sample_rate=16000, channels=1, sample_width=2, language=args.language, act=args.act))
        async for chunk in source.chunks():
            for start in range(0, len(chunk), 32 * 1024):
                yield pb.AudioChunk(pcm=chunk[start : start + 32 * 1024])

    async def main() -> int:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = pb_grpc.PushkinStub(channel)
            call = stub.StreamAudio(requests())
            async for event in call:
                print_event(event)
        return 0

    try:
        return asyncio.run(main())
    except AudioSourceError as error:
        print(f"pushkin listen: {error}", file=sys.stderr)
        return 1
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.UNAVAILABLE:
            print(f"pushkin listen: no daemon at {address} (start it with `pushkin serve`).", file=sys.stderr)
        else:
            print(f"pushkin listen: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1


def print_event(event) -> None:
    """One line per recognition event: boundaries, interim (~) and final (=) text, intents, notices."""
    kind = event.WhichOneof("kind")
    if kind == "boundary":
        what = "speech started" if event.boundary.started else "speech ended"
        print(f"[{event.boundary.time_s:7.2f}] {what}", flush=True)
    elif kind == "transcript":
        t = event.transcript
        if t.final:
            print(f"= {t.text}" + (f"  ({t.language})" if t.language else ""), flush=True)
        else:
            print(f"~ {t.text}", flush=True)
    elif kind == "decided":
        intent = event.decided.intent
        label = intent.name or "dictation"
        print(f"→ {label}: {event.decided.message or intent.text}", flush=True)
    elif kind == "notice":
        print(f"! {event.notice.message}", flush=True)
