"""The core subcommands: serve, edit, say, status, install-service, uninstall-service.

Nothing heavy is imported at module level: grpc, the client library and the daemon load inside handlers.
`serve` is a shell over :func:`pushkin.daemon.assembly.serve`, which puts the daemon together.
"""

from __future__ import annotations

import argparse
import sys

ORDER = 0


def register(subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run the daemon in the foreground (what the login service runs)",
                                  description="Run the lil Pushkin daemon in the foreground until SIGTERM or Ctrl-C.")
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--socket", metavar="PATH", help="listen on this Unix socket (default: "
                       "$XDG_RUNTIME_DIR/pushkin/pushkin.sock)")
    where.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead (loopback unless --allow-remote); "
                       "clients need the token file")
    serve.add_argument("--token-file", metavar="PATH", help="the token for TCP clients, mode 0600; created if missing "
                       "(default: $XDG_CONFIG_HOME/pushkin/token)")
    serve.add_argument("--config", metavar="PATH", help="settings file (default: $XDG_CONFIG_HOME/pushkin/config.toml)")
    serve.add_argument("--allow-remote", action="store_true", help="allow a non-loopback TCP address")
    serve.add_argument("--no-mic", action="store_true", help="do not open the microphone (same as --set "
                       "hearing.microphone.enabled=false); `pushkin listen` and typed utterances still work")
    serve.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override one setting, e.g. --set edits.timeout_s=2 (repeatable)")
    serve.add_argument("--log-level", default=argparse.SUPPRESS, help="DEBUG, INFO, WARNING or ERROR")
    serve.set_defaults(handler=_serve)

    edit = subparsers.add_parser("edit", help="a terminal editor client: apply the daemon's edits to FILE",
                                 description="Open FILE as a document in the daemon, apply every edit batch it pushes, "
                                 "write FILE back atomically after each, and print each edit. Changes made to FILE "
                                 "on disk meanwhile are picked up and reported to the daemon.")
    edit.add_argument("file", metavar="FILE")
    _client_flags(edit)
    edit.add_argument("--no-focus", action="store_true", help="open the document without taking the focus")
    edit.add_argument("--poll-interval", type=float, default=0.25, metavar="SECONDS",
                      help="how often to check FILE for changes made by others (default 0.25)")
    edit.set_defaults(handler=_edit)

    say = subparsers.add_parser("say", help="send an utterance to the running daemon (or decide it offline)",
                                description="Send TEXT as if it had been spoken, and print the intent and the edits. "
                                "With --offline, decide utterances against a file without any daemon.")
    say.add_argument("utterances", nargs="+", metavar="TEXT", help="the utterance(s), in order")
    _client_flags(say)
    say.add_argument("--document-id", default="", help="the target document (default: the focused one)")
    say.add_argument("--language", default="", help="en, ru, ... (default: detected)")
    say.add_argument("--timeout", type=float, default=0.0, metavar="SECONDS", help="wait this long for the editor")
    say.add_argument("--json", action="store_true", help="print JSON")
    say.add_argument("--offline", action="store_true", help="no daemon: decide the utterances against --doc FILE")
    say.add_argument("--doc", metavar="FILE", help="(--offline) the document to plan against")
    cursor = say.add_mutually_exclusive_group()
    cursor.add_argument("--cursor", type=int, metavar="N", help="(--offline) the cursor, in code points")
    cursor.add_argument("--select", metavar="START:END", help="(--offline) the selection, in code points")
    say.set_defaults(handler=_say)

    status = subparsers.add_parser("status", help="show the daemon's state, editors and recent transcripts")
    _client_flags(status)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_status)

    for name, doing in (("install-service", "install"), ("uninstall-service", "uninstall")):
        service = subparsers.add_parser(name, help=f"{doing} the login service (systemd --user unit or LaunchAgent)")
        service.add_argument("--print", action="store_true", dest="print_only",
                             help="print the service file and where it goes; change nothing")
        service.add_argument("--platform", choices=("linux", "macos"), default=None,
                             help="default: this machine's")
        service.add_argument("--no-enable", action="store_true",
                             help="only write (or remove) the file; do not call systemctl/launchctl")
        service.set_defaults(handler=_install_service if doing == "install" else _uninstall_service)


def _client_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default=None, metavar="URI",
                        help="unix:///path or tcp://host:port (default: $PUSHKIN_ADDRESS or the daemon's socket)")
    parser.add_argument("--token-file", default=None, metavar="PATH", help="the daemon's token file (TCP)")


def _fail(message: str, code: int = 1) -> int:
    print(f"pushkin: {message}", file=sys.stderr)
    return code


# ---- serve --------------------------------------------------------------------------------------


def _serve(args) -> int:
    import logging
    import os

    from pushkin.daemon.assembly import DaemonError, SettingsError, serve

    if getattr(args, "log_level", None):
        level = getattr(logging, str(args.log_level).upper(), None)
        if not isinstance(level, int):
            return _fail(f"unknown --log-level {args.log_level!r}", 2)
        logging.getLogger().setLevel(level)
    overrides: dict[str, object] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            return _fail(f"--set {item!r}: expected SECTION.KEY=VALUE", 2)
        overrides[key.strip()] = value
    if args.socket:
        overrides["server.listen"] = "unix://" + os.path.abspath(args.socket)
    if args.tcp:
        overrides["server.listen"] = "tcp://" + args.tcp
    if args.token_file:
        overrides["server.token_file"] = args.token_file
    if args.allow_remote:
        overrides["server.allow_remote"] = True
    if args.no_mic:
        overrides["hearing.microphone.enabled"] = False
    try:
        serve(args.config, overrides, report=_tell)
    except SettingsError as error:
        return _fail(f"settings: {error}", 2)
    except DaemonError as error:
        return _fail(str(error))
    return 0


def _tell(line: str) -> None:
    """A line for the person who started the daemon (what the login service's journal keeps)."""
    print(f"pushkin: {line}", file=sys.stderr, flush=True)


# ---- edit ---------------------------------------------------------------------------------------


def _edit(args) -> int:
    import asyncio

    from .file_editor import FileEditor, FileEditorError

    try:
        editor = FileEditor(args.file, address=args.address, token_file=args.token_file, focus=not args.no_focus,
                            poll_interval_s=args.poll_interval)
    except FileEditorError as error:
        return _fail(str(error), 2)
    try:
        return asyncio.run(editor.run())
    except FileEditorError as error:
        return _fail(str(error))


# ---- say ----------------------------------------------------------------------------------------


def _say(args) -> int:
    if args.offline:
        return _say_offline(args)
    for flag in ("doc", "cursor", "select"):
        if getattr(args, flag) is not None:
            return _fail(f"--{flag} only goes with --offline; to target a document in the daemon use --document-id", 2)
    import asyncio

    return asyncio.run(_say_online(args))


def _say_offline(args) -> int:
    if args.doc is None:
        return _fail("--offline needs --doc FILE, the document to decide the utterances against", 2)
    try:
        from pushkin.daemon.intent.offline import OfflineRequest, run_offline
    except ImportError as error:
        return _fail(f"`say --offline` needs the intent engine (pushkin.daemon.intent.offline), which is not "
                     f"installed in this build: {error}")
    return run_offline(OfflineRequest(doc=args.doc, utterances=tuple(args.utterances), cursor=args.cursor,
                                      select=args.select, json=args.json))


async def _say_online(args) -> int:
    import json

    from pushkin.clients.connection import DaemonUnavailable
    from pushkin.clients.daemon_client import DaemonCallError, DaemonClient

    from .render import describe_edit, result_to_json

    try:
        client = DaemonClient(args.address, token_file=args.token_file)
    except (ValueError, OSError) as error:
        return _fail(str(error), 2)
    failed = False
    async with client:
        for text in args.utterances:
            try:
                result = await client.say(text, document_id=args.document_id, language=args.language,
                                          timeout_s=args.timeout)
            except (DaemonUnavailable, DaemonCallError) as error:
                return _fail(str(error))
            wanted_edits = any(sent.batch.edits for sent in result.batches)
            failed = failed or (wanted_edits and not result.applied)
            if args.json:
                print(json.dumps(result_to_json(text, result), ensure_ascii=False))
                continue
            intent = result.intent
            label = intent.kind.value + (f" {intent.name}" if intent.name else "")
            args_text = " ".join(f"{k}={v!r}" for k, v in intent.args.items())
            print(f"intent: {label}{' ' + args_text if args_text else ''} ({intent.source}): {intent.text!r}")
            for sent in result.batches:
                print(f"batch {sent.batch.batch_id} -> {sent.editor or '?'} {result.document_id}: "
                      f"{sent.outcome.value}")
                for edit in sent.batch.edits:
                    print("  " + describe_edit(edit))
            if result.message:
                print(result.message)
            if not result.batches and not result.document_id:
                print("(no document is focused: connect an editor, e.g. `pushkin edit FILE`)")
    return 1 if failed else 0


# ---- status -------------------------------------------------------------------------------------


def _status(args) -> int:
    import asyncio

    return asyncio.run(_status_async(args))


async def _status_async(args) -> int:
    import json

    from pushkin.clients.connection import DaemonUnavailable
    from pushkin.clients.daemon_client import DaemonCallError, DaemonClient

    from .render import status_to_json

    try:
        client = DaemonClient(args.address, token_file=args.token_file)
    except (ValueError, OSError) as error:
        return _fail(str(error), 2)
    async with client:
        try:
            status = await client.status()
        except (DaemonUnavailable, DaemonCallError) as error:
            return _fail(str(error))
    if args.json:
        print(json.dumps(status_to_json(status), ensure_ascii=False, indent=2))
        return 0
    print(f"lil Pushkin {status.daemon_version} on {status.listen_address}, up {status.uptime_s:.0f} s")
    print(f"state: {status.state.value}; mode: {status.listen_mode.value}; intent mode: {status.intent_mode.value}")
    print(f"focused document: {status.focused_document_id or '(none)'}; utterances: {status.utterances}")
    print(f"editors ({len(status.editors)}):")
    for editor in status.editors:
        print(f"  {editor.session_id} {editor.editor_name}: {', '.join(editor.document_ids) or '(no documents)'}")
    for component in status.components:
        print(f"{component.name}: {component.state}{' — ' + component.detail if component.detail else ''}")
    if status.recent_transcripts:
        print("recent transcripts:")
        for transcript in status.recent_transcripts:
            print(f"  {transcript.text}")
    return 0


# ---- install-service / uninstall-service --------------------------------------------------------


def _install_service(args) -> int:
    from .service_files import ServiceError, install

    try:
        return install(args.platform, print_only=args.print_only, enable=not args.no_enable)
    except ServiceError as error:
        return _fail(str(error))


def _uninstall_service(args) -> int:
    from .service_files import ServiceError, uninstall

    try:
        return uninstall(args.platform, print_only=args.print_only, disable=not args.no_enable)
    except ServiceError as error:
        return _fail(str(error))
