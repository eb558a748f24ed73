"""`pushkin edit FILE`: a file on disk as an editor document.

The file is read once (it must be UTF-8; anything else is refused and left untouched), opened in the
daemon with the cursor at the end, and every edit batch the daemon pushes is applied to the in-memory
copy and written back atomically (a temporary file in the same folder, fsync, rename over the original,
keeping its permissions). Changes that others make to the file meanwhile are noticed (polling its
stat) and reported to the daemon, so dictation never overwrites them: a batch planned before such a
change is answered STALE and re-planned by the daemon.

No other program's change is ever lost: the file is read only once it has settled (its stamp the same
before, after and a moment after the read, so a half-done in-place rewrite is never taken for the text),
a write replaces only the very file the batch was applied to (checked by an atomic swap, renameat2
RENAME_EXCHANGE, where the file system has it; otherwise checked right before the rename) and is
answered STALE otherwise, and the stamp kept is that of the file written, never a fresh look at the path.
Temporary files a killed `pushkin edit` left are removed at start; a live writer's are locked and kept.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import fcntl
import glob
import hashlib
import os
import signal
import stat
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pushkin.clients.buffer import EditorBuffer
from pushkin.clients.connection import DaemonUnavailable, check_trusted
from pushkin.clients.editor import BatchHandled, Disconnected, EditorClient
from pushkin.proto.types import (
    EditBatch,
    EditOutcome,
    EditResult,
    ProtocolError,
    Selection,
    StatusNotice,
    UpdateDocument,
)

from .render import describe_edit


class FileEditorError(RuntimeError):
    """A file that cannot be edited (not UTF-8, a folder, unreadable) or a daemon that cannot be reached."""




@dataclass(frozen=True)
class FileStamp:
    """What identifies one state of a file on disk. (Not the ctime: a rename changes it.)

    The digest of the contents is part of it: a program saving atomically gets a new file whose inode number
    the file system may reuse at once, and a save within the same timestamp tick at the same size then had
    the very same inode, size and mtime as the file an edit was based on (its change was overwritten).
    """

    inode: int
    size: int
    mtime_ns: int
    digest: bytes

    @classmethod
    def of_stat(cls, info: os.stat_result, data: bytes) -> FileStamp:
        return cls(info.st_ino, info.st_size, info.st_mtime_ns, hashlib.blake2b(data, digest_size=16).digest())

    @classmethod
    def of(cls, path: Path | str) -> FileStamp | None:
        try:
            with open(path, "rb") as file:
                info = os.fstat(file.fileno())
                data = file.read()
        except FileNotFoundError:
            return None
        return cls.of_stat(info, data)


class FileChanged(Exception):
    """The file on disk is no longer the one an edit was applied to: another program wrote it."""


class FileBusy(FileEditorError):
    """The file kept changing for the whole wait: another program is still writing it."""


# A read is trusted only when the file's stamp is the same before it, after it and this much later: an
# in-place writer (truncate, then write) caught in between changes the stamp within that time.
SETTLE_S = 0.01
SETTLE_GIVE_UP_S = 2.0
TEMP_SUFFIX = ".pushkin-tmp"
# An unlocked temporary file younger than this may be one a live writer has just created and not yet locked.
STALE_TEMP_AGE_S = 1.0


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileEditorError(f"{path} is not UTF-8 text (byte {error.start} is {data[error.start]:#04x}); "
                              "refusing to edit it — the file is left unchanged") from None


def read_settled(path: Path, settle_s: float = SETTLE_S, give_up_s: float = SETTLE_GIVE_UP_S) -> tuple[str, FileStamp | None]:
    """The file's text and the stamp it was read at, once nobody is writing it ("" and None: no file).

    FileEditorError when it is not UTF-8 or not a regular file; FileBusy when it never settles.
    """
    if path.exists() and not path.is_file():
        raise FileEditorError(f"{path} is not a regular file")
    deadline = time.monotonic() + give_up_s
    while True:
        before = FileStamp.of(path)
        try:
            data: bytes | None = path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as error:
            raise FileEditorError(f"cannot read {path}: {error.strerror}") from None
        time.sleep(settle_s)
        after = FileStamp.of(path)
        if before == after and (data is None) == (after is None) and (data is None or (after is not None and len(data) == after.size)):
            return ("" if data is None else _decode(path, data)), after
        if time.monotonic() > deadline:
            raise FileBusy(f"{path} kept changing for {give_up_s:g} s; another program is still writing it")


def _renameat2_exchange():
    """Linux's atomic swap of two names (renameat2 RENAME_EXCHANGE), or None where libc lacks it."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]

    def exchange(first: str, second: str) -> bool:
        at_fdcwd, rename_exchange = -100, 2
        if function(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
            return True
        code = ctypes.get_errno()
        if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            return False  # this file system cannot swap: fall back to check-then-rename
        raise OSError(code, os.strerror(code), second)

    return exchange


_exchange = _renameat2_exchange()


def _replace_if_unchanged(temp: str, target: Path, expected: FileStamp | None, ours: int) -> None:
    """Put ``temp`` at ``target`` only if ``target`` is still at ``expected``; FileChanged otherwise.

    With RENAME_EXCHANGE the swap itself is the check: what comes out at ``temp`` is what was at
    ``target`` at that instant; when it is not the expected file, it is swapped back (and if a newer save
    replaced ours in that instant, that newest file is what stays). ``temp`` is removed either way.
    """
    if FileStamp.of(target) != expected:
        raise FileChanged(str(target))
    if expected is None:
        try:
            os.link(temp, target)  # never replaces: a file someone created meanwhile is kept
        except FileExistsError:
            raise FileChanged(str(target)) from None
        os.unlink(temp)
        return
    if _exchange is None or not _exchange(temp, str(target)):
        os.replace(temp, target)
        return
    if FileStamp.of(temp) == expected:
        os.unlink(temp)
        return
    _exchange(temp, str(target))
    if os.lstat(temp).st_ino != ours:
        _exchange(temp, str(target))  # a newer save replaced ours meanwhile: it stays at the target
    os.unlink(temp)
    raise FileChanged(str(target))


class _Unchecked(enum.Enum):
    ANY = enum.auto()  # no expected stamp: replace whatever is there


def write_atomically(path: Path, text: str, expected: FileStamp | None | _Unchecked = _Unchecked.ANY) -> FileStamp:
    """Replace ``path``'s contents with ``text`` so that a crash leaves the old or the new file, never half.

    With ``expected`` (the stamp the text was based on), raises FileChanged instead of replacing a file
    another program wrote since. Returns the stamp of what was written (from the written file itself, so a
    write by someone else right after is still noticed). A symlink is followed (the link stays a link);
    the file keeps its permission bits. The temporary file is locked while it exists, so that
    :func:`remove_stale_temp_files` can tell a live writer's from one a killed process left.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    ours = os.fstat(fd).st_ino
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _write_all(fd, text.encode("utf-8"))
        os.fsync(fd)
        os.fchmod(fd, mode)
        # Before the rename: once it is at the target, another program may already be writing into it.
        stamp = FileStamp.of_stat(os.fstat(fd), text.encode("utf-8"))
        if expected is _Unchecked.ANY:
            os.replace(temp_name, target)
        else:
            _replace_if_unchanged(temp_name, target, expected, ours)
    except BaseException:
        try:
            if os.lstat(temp_name).st_ino == ours:  # never remove what a swap left there
                os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    finally:
        os.close(fd)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return stamp


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def remove_stale_temp_files(path: Path, min_age_s: float = STALE_TEMP_AGE_S) -> list[Path]:
    """Remove the ``.NAME.*.pushkin-tmp`` files a killed `pushkin edit` left beside ``path``; returns them.

    Only ours (that name pattern, a regular file owned by this user) and only stale: a live writer holds
    an exclusive lock on its temporary file, so one that can be locked, and is older than ``min_age_s``,
    has no writer left (the kernel drops a killed process's locks).
    """
    target = Path(os.path.realpath(path))
    removed: list[Path] = []
    try:
        candidates = list(target.parent.glob(f".{glob.escape(target.name)}.*{TEMP_SUFFIX}"))
    except OSError:
        return removed
    for candidate in candidates:
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                continue
            if time.time() - info.st_mtime < min_age_s:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live writer
            if os.lstat(candidate).st_ino == info.st_ino:
                os.unlink(candidate)
                removed.append(candidate)
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


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
        self.removed_temp_files = remove_stale_temp_files(self.path)
        text, self.stamp = read_settled(self.path)
        self.buffer = EditorBuffer(str(self.path), text=text, version=1, selection=Selection.cursor(len(text)),
                                   path=str(self.path))
        self.unreadable = ""  # set while the file on disk is not UTF-8: nothing is written over it
        self.focus = focus
        self.poll_interval_s = poll_interval_s

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    async def run(self) -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Handlers first: a SIGTERM while connecting must still stop cleanly.
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            try:
                await self.client.start()
            except DaemonUnavailable as error:
                raise FileEditorError(str(error)) from None
            # Said before the first await after start(), so it comes before any notice the daemon sends.
            self.say(f"editing {self.path} ({len(self.buffer.text)} code points) via {self.client.address.uri}; "
                     "Ctrl-C to stop")
            for leftover in self.removed_temp_files:
                self.say(f"removed {leftover.name}, a temporary file an interrupted `pushkin edit` left behind")
            await self.client.open(self.buffer, focus=self.focus)
            watcher = asyncio.create_task(self._watch_file(stop), name="file-watcher")
            try:
                await stop.wait()
            finally:
                watcher.cancel()
                await self.client.close()
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(signum)
        self.say("stopped")
        return 0

    # ---- the file on disk -----------------------------------------------------------------------

    def _take_disk_changes(self) -> UpdateDocument | None:
        """Read the file if someone else changed it; the update to send when the buffer changed."""
        if FileStamp.of(self.path) == self.stamp:
            return None
        try:
            text, self.stamp = read_settled(self.path)
        except FileBusy as error:
            self.unreadable = str(error)  # read again on the next poll or batch; nothing is written meanwhile
            return None
        except FileEditorError as error:
            if not self.unreadable:
                self.say(f"warning: {error}; edits are refused until it is UTF-8 again")
            self.unreadable = str(error)
            self.stamp = FileStamp.of(self.path)
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
            # Only over the very file the batch was applied to: a save by another program since wins.
            self.stamp = write_atomically(self.path, buffer.text, expected=self.stamp)
        except FileChanged:
            buffer.text, buffer.version, buffer.selection = before
            self.say(f"{self.path.name} was saved by another program just before this edit; it is re-planned")
            update = self._take_disk_changes()
            if update is not None:
                await self.client.update(update)
            return EditResult(batch.batch_id, batch.document_id, EditOutcome.STALE, buffer.version, buffer.text,
                              buffer.selection)
        except OSError as error:
            buffer.text, buffer.version, buffer.selection = before
            return EditResult(batch.batch_id, batch.document_id, EditOutcome.FAILED, buffer.version,
                              error=f"cannot write {self.path}: {error}")
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
