"""`pushkin edit FILE`: a file on disk as an editor document.

The file is read once (it must be UTF-8; anything else is refused and left untouched), opened in the
daemon with the cursor at the end, and every edit batch the daemon pushes is applied to the in-memory
copy and written back atomically (a temporary file in the same folder, fsync, rename over the original,
keeping its permissions). Changes that others make to the file meanwhile are noticed (polling its
stat) and reported to the daemon, so dictation never overwrites them: a batch planned before such a
change is answered STALE and re-planned by the daemon.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pushkin.clients.buffer import EditorBuffer
from pushkin.clients.connection import DaemonUnavailable, check_trusted
from pushkin.clients.editor import BatchHandled, Disconnected, EditorClient
from pushkin.proto.types import EditBatch, EditOutcome, EditResult, ProtocolError, Selection, StatusNotice, UpdateDocument

from .render import describe_edit


class FileEditorError(RuntimeError):
    """A file that cannot be edited (not UTF-8, a folder, unreadable) or a daemon that cannot be reached."""


@dataclass(frozen=True)
class FileStamp:
    """What identifies one state of a file on disk, cheaply."""

    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> "FileStamp | None":
        try:
            info = path.stat()
        except FileNotFoundError:
            return None
        return cls(info.st_ino, info.st_size, info.st_mtime_ns)


def read_utf8(path: Path) -> str:
    """The file's text; FileEditorError when it is not UTF-8 (or not a regular file)."""
    if path.exists() and not path.is_file():
        raise FileEditorError(f"{path} is not a regular file")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ""
    except OSError as error:
        raise FileEditorError(f"cannot read {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileEditorError(f"{path} is not UTF-8 text (byte {error.start} is {data[error.start]:#04x}); "
                              "refusing to edit it — the file is left unchanged") from None


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path``'s contents with ``text`` so that a crash leaves the old or the new file, never half.

    A symlink is followed (the link stays a link); the file keeps its permission bits.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".pushkin-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


class FileEditor:
    """The `pushkin edit` client: one file, one document, until SIGINT/SIGTERM."""

    def __init__(self, file: str, *, address: str | None = None, token_file: str | None = None, focus: bool = True,
                 poll_interval_s: float = 0.25, out=None):
        self.path = Path(file).absolute()
        self.out = out or sys.stdout
        try:
            self.client = EditorClient(address, token_file=token_file, editor_name="pushkin-edit",
                                       apply=self._apply, on_event=self._event)
            # Before the file is even read: a socket another user controls must never see it.
            check_trusted(self.client.address)
        except (ValueError, OSError) as error:
            raise FileEditorError(str(error)) from None
        text = read_utf8(self.path)
        self.buffer = EditorBuffer(str(self.path), text=text, version=1, selection=Selection.cursor(len(text)),
                                   path=str(self.path))
        self.stamp = FileStamp.of(self.path)
        self.unreadable = ""  # set while the file on disk is not UTF-8: nothing is written over it
        self.focus = focus
        self.poll_interval_s = poll_interval_s

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    async def run(self) -> int:
        try:
            await self.client.start()
        except DaemonUnavailable as error:
            raise FileEditorError(str(error)) from None
        await self.client.open(self.buffer, focus=self.focus)
        self.say(f"editing {self.path} ({len(self.buffer.text)} code points) via {self.client.address.uri}; "
                 "Ctrl-C to stop")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        watcher = asyncio.create_task(self._watch_file(stop), name="file-watcher")
        try:
            await stop.wait()
        finally:
            watcher.cancel()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
            await self.client.close()
        self.say("stopped")
        return 0

    # ---- the file on disk -----------------------------------------------------------------------

    def _take_disk_changes(self) -> UpdateDocument | None:
        """Read the file if someone else changed it; the update to send when the buffer changed."""
        stamp = FileStamp.of(self.path)
        if stamp == self.stamp:
            return None
        self.stamp = stamp
        try:
            text = read_utf8(self.path)
        except FileEditorError as error:
            if not self.unreadable:
                self.say(f"warning: {error}; edits are refused until it is UTF-8 again")
            self.unreadable = str(error)
            return None
        self.unreadable = ""
        if text == self.buffer.text:
            return None
        update = self.buffer.replace_all(text)
        self.say(f"{self.path.name} changed on disk; now version {self.buffer.version}")
        return update

    async def _watch_file(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.poll_interval_s)
            update = self._take_disk_changes()
            if update is not None:
                await self.client.update(update)

    # ---- the daemon's batches -------------------------------------------------------------------

    async def _apply(self, buffer: EditorBuffer, batch: EditBatch) -> EditResult:
        # Whatever is on disk now is the user's: take it first, so a batch planned before it is stale.
        update = self._take_disk_changes()
        if update is not None:
            await self.client.update(update)
        if self.unreadable:
            return EditResult(batch.batch_id, batch.document_id, EditOutcome.FAILED, buffer.version,
                              error=self.unreadable)
        before = (buffer.text, buffer.version, buffer.selection)
        result = buffer.apply_batch(batch)
        if result.outcome is not EditOutcome.APPLIED:
            return result
        try:
            write_atomically(self.path, buffer.text)
        except OSError as error:
            buffer.text, buffer.version, buffer.selection = before
            return EditResult(batch.batch_id, batch.document_id, EditOutcome.FAILED, buffer.version,
                              error=f"cannot write {self.path}: {error}")
        self.stamp = FileStamp.of(self.path)
        return result

    def _event(self, event) -> None:
        if isinstance(event, BatchHandled):
            batch, result = event.batch, event.result
            self.say(f"batch {batch.batch_id} ({batch.description or 'edit'}) v{batch.base_version}: "
                     f"{result.outcome.value}" + (f" -> v{result.version}" if result.outcome is EditOutcome.APPLIED
                                                  else "") + (f" ({result.error})" if result.error else ""))
            for edit in batch.edits:
                self.say("  " + describe_edit(edit))
        elif isinstance(event, StatusNotice):
            self.say(f"notice [{event.level.value}] {event.code}: {event.message}")
        elif isinstance(event, ProtocolError):
            self.say(f"error from the daemon [{event.code.value}]: {event.message}")
        elif isinstance(event, Disconnected):
            self.say(f"disconnected ({event.reason}); reconnecting")
