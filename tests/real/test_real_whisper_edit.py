"""Real speech → a real `pushkin serve` with real Whisper base → an editor → the exact expected document.

The daemon runs as a subprocess with its defaults: the recognizer it loads is `base`, found in the models
folder (`pushkin models fetch whisper-base`) and checked before it loads. Speech is streamed in real time by
`pushkin listen --wav FILE --act`, the way a recording reaches the daemon; the edits reach `pushkin edit FILE`
(a file on disk) or the Neovim plugin in a headless Neovim.

The utterances are ones the current stack hears right every time (Piper speaks deterministically here); they
cover dictation, commands, dictation that contains command words, and Russian dictation next to English
commands.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
import pytest
from real.real_speech import espeak_wav, piper_wav

from pushkin.proto.v1 import pushkin_pb2 as pb
from pushkin.proto.v1 import pushkin_pb2_grpc as pb_grpc

PUSHKIN = [sys.executable, "-m", "pushkin.clients.cli"]

pytestmark = pytest.mark.timeout(300)  # a loaded 2-core CI machine decodes slowly

ENGLISH = {
    "fox": "The quick brown fox jumps over the lazy dog.",
    "station": "We will meet at the station tomorrow morning.",
    "scratch": "Scratch that.",
    "editor": "I told my editor to scratch that chapter.",
    "paragraph": "New paragraph.",
}
# Russian commands spoken by espeak-ng ("Отмени.", "Удали это.") are not yet heard the same way twice by
# Whisper base (a temperature fallback samples); the Russian test pairs Russian dictation with an English command.
RUSSIAN = {"thanks": "Спасибо."}


@pytest.fixture(scope="module")
def speech(tmp_path_factory, piper_voice) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("speech")
    clips = {name: piper_wav(piper_voice, text, folder / f"{name}.wav") for name, text in ENGLISH.items()}
    clips.update({name: espeak_wav(text, folder / f"{name}.wav") for name, text in RUSSIAN.items()})
    return clips


class RealDaemon:
    """`pushkin serve --no-mic` on a Unix socket, with the default recognizer loaded at start."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.address = f"unix://{folder / 'daemon.sock'}"
        self.env = {**os.environ, "PUSHKIN_ADDRESS": self.address}
        self.log_path = folder / "serve.log"
        self.process = subprocess.Popen([*PUSHKIN, "serve", "--no-mic"], env=self.env,
                                        stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)
        self.channel = grpc.insecure_channel(self.address.replace("unix://", "unix:"))
        self.stub = pb_grpc.PushkinStub(self.channel)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def status(self) -> pb.Status:
        return self.stub.GetStatus(pb.GetStatusRequest(), timeout=2)

    def recognizer(self) -> pb.Component:
        return next(c for c in self.status().components if c.name == "recognizer")

    def wait_ready(self, timeout_s: float = 90.0) -> pb.Component:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"pushkin serve exited: {self.log()}"
            try:
                component = self.recognizer()
                if component.state == "ready":
                    return component
                assert component.state in ("loading", ""), f"recognizer {component.state}: {component.detail}"
            except (grpc.RpcError, StopIteration):
                pass
            time.sleep(0.1)
        raise AssertionError(f"the recognizer did not load within {timeout_s} s: {self.log()}")

    def wait_focused(self, name: str, timeout_s: float = 10.0) -> None:
        """Until the focused document is ``name`` (a file's name, or a Neovim buffer number)."""
        deadline = time.monotonic() + timeout_s
        while True:
            focused = self.status().focused_document_id
            if focused == name or focused.endswith((f"/{name}", f":{name}")):
                return
            assert time.monotonic() < deadline, f"focused: {focused!r}, wanted {name!r}"
            time.sleep(0.02)

    def hear(self, wav: Path, *flags: str) -> str:
        """Stream a recording in real time and act on what is decided; returns the listen command's output."""
        done = subprocess.run([*PUSHKIN, "listen", "--wav", str(wav), "--act", *flags], env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr + self.log()
        return done.stdout

    def stop(self) -> None:
        self.channel.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def daemon(whisper_base):
    folder = Path(tempfile.mkdtemp(prefix="pk-real-", dir="/tmp"))  # socket paths stay short
    process = RealDaemon(folder)
    try:
        yield process
    finally:
        process.stop()
        shutil.rmtree(folder, ignore_errors=True)


class FileEditor:
    """`pushkin edit FILE` as a subprocess."""

    def __init__(self, path: Path, daemon: RealDaemon) -> None:
        self.path = path
        self.process = subprocess.Popen([*PUSHKIN, "edit", str(path)], env=daemon.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("editing "), line
        daemon.wait_focused(path.name)

    def wait_text(self, *expected: str, timeout_s: float = 15.0) -> None:
        """Until the file holds one of ``expected`` (Whisper may or may not end a one-word sentence with a mark)."""
        deadline = time.monotonic() + timeout_s
        while self.path.read_text(encoding="utf-8") not in expected:
            if time.monotonic() > deadline:
                assert self.path.read_text(encoding="utf-8") in expected
            time.sleep(0.02)

    def stop(self) -> str:
        self.process.terminate()
        return self.process.communicate(timeout=10)[0]


def test_the_daemon_hears_with_the_fetched_default_recognizer(daemon, whisper_base):
    component = daemon.wait_ready()
    assert "faster-whisper base" in component.detail
    assert f"Loading Whisper model '{whisper_base}'" in daemon.log()  # the models folder, not the hub


def test_english_dictation_commands_and_command_words_reach_the_file_exactly(daemon, speech, tmp_path):
    daemon.wait_ready()
    path = tmp_path / "notes.txt"
    path.write_text("Notes.", encoding="utf-8")
    editor = FileEditor(path, daemon)
    try:
        daemon.hear(speech["fox"])
        editor.wait_text("Notes. The quick brown fox jumps over the lazy dog.")
        daemon.hear(speech["station"])
        editor.wait_text("Notes. The quick brown fox jumps over the lazy dog. We will meet at the station tomorrow morning.")
        heard = daemon.hear(speech["scratch"])
        assert "command scratch_that" in heard, heard
        editor.wait_text("Notes. The quick brown fox jumps over the lazy dog.")
        heard = daemon.hear(speech["editor"])  # "scratch that" inside a sentence is dictation, not a command
        assert "dictation" in heard, heard
        editor.wait_text("Notes. The quick brown fox jumps over the lazy dog. I told my editor to scratch that chapter.")
        daemon.hear(speech["paragraph"])
        editor.wait_text("Notes. The quick brown fox jumps over the lazy dog. I told my editor to scratch that chapter.\n\n")
    finally:
        log = editor.stop()
    assert "applied" in log


def test_russian_dictation_then_an_english_command_in_one_session(daemon, speech, tmp_path):
    daemon.wait_ready()
    path = tmp_path / "letter.txt"
    path.write_text("Письмо готово.", encoding="utf-8")
    editor = FileEditor(path, daemon)
    try:
        heard = daemon.hear(speech["thanks"])
        assert "(ru)" in heard, heard
        editor.wait_text("Письмо готово. Спасибо", "Письмо готово. Спасибо.")
        heard = daemon.hear(speech["scratch"])
        assert "(en)" in heard and "command scratch_that" in heard, heard
        editor.wait_text("Письмо готово.")
        daemon.hear(speech["thanks"])
        editor.wait_text("Письмо готово. Спасибо", "Письмо готово. Спасибо.")
    finally:
        editor.stop()


def test_neovim_buffer_gets_real_speech(daemon, speech):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))
    from plugin_harness import Neovim

    daemon.wait_ready()
    nvim = Neovim(daemon)
    try:
        nvim.wait_connected()
        nvim.nvim.current.buffer[:] = ["Draft."]
        nvim.nvim.current.window.cursor = (1, len("Draft."))
        nvim.settle()
        daemon.wait_focused(str(nvim.lua("return vim.api.nvim_get_current_buf()")))
        daemon.hear(speech["fox"])
        nvim.wait_for(lambda: nvim.text() == "Draft. The quick brown fox jumps over the lazy dog.", 15.0, "the dictation")
        daemon.hear(speech["scratch"])
        nvim.wait_for(lambda: nvim.text() == "Draft.", 15.0, "scratch that")
        daemon.hear(speech["editor"])
        nvim.wait_for(lambda: nvim.text() == "Draft. I told my editor to scratch that chapter.", 15.0, "the dictation")
    finally:
        nvim.close()
