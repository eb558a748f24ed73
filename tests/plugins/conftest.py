"""Fixtures for the editor-plugin tests (the harness itself is in plugin_harness.py)."""

from __future__ import annotations

import pytest
from plugin_harness import DaemonProcess, Neovim, short_tmpdir


@pytest.fixture(scope="session")
def daemon():
    folder = short_tmpdir()
    process = DaemonProcess(folder)
    process.start()
    yield process
    process.stop()


@pytest.fixture
def nvim(daemon):
    editor = Neovim(daemon)
    editor.wait_connected()
    yield editor
    editor.close()
