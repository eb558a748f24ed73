"""What the client tests share: a short scratch folder (Unix socket paths must stay under ~100 bytes)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def folder():
    path = Path(tempfile.mkdtemp(prefix="pk-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
