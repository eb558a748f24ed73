"""The real-weights tier: real Whisper base / tiny.en, real Gemma 3 270M (GGUF), the Piper voice.

Weights come from the models folder (`PUSHKIN_MODELS_DIR`, by default the user's data folder), filled once by
`pushkin models fetch` before the tests run (`make test` does it). Nothing downloads here: a missing model
fails its test with the command that fetches it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

MODELS_DIR = Path(os.environ["PUSHKIN_MODELS_DIR"])


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.real)


def _model(name: str, inside: str = "") -> Path:
    path = MODELS_DIR / name / inside if inside else MODELS_DIR / name
    if not path.exists():
        pytest.fail(f"real weights {name!r} are not in {MODELS_DIR}: run `pushkin models fetch {name}` first")
    return path


@pytest.fixture(scope="session")
def whisper_base() -> Path:
    """The CTranslate2 folder of Whisper base (multilingual)."""
    return _model("whisper-base")


@pytest.fixture(scope="session")
def whisper_tiny_en() -> Path:
    """The CTranslate2 folder of Whisper tiny.en."""
    return _model("whisper-tiny.en")


@pytest.fixture(scope="session")
def gemma_270m_gguf() -> Path:
    """Gemma 3 270M, the pretrained base, as the GGUF file (Q4_K_M)."""
    return _model("gemma-3-270m", "gemma-3-270m-q4_k_m.gguf")


@pytest.fixture(scope="session")
def piper_voice() -> Path:
    """The Piper voice (en_US joe, medium) .onnx file; its .onnx.json sits beside it."""
    return _model("piper-joe", "en_US-joe-medium.onnx")


@pytest.fixture(scope="session")
def gemma_270m(gemma_270m_gguf, tmp_path_factory):
    """Gemma 3 270M as `[model] model = "….gguf"` loads it, converted once per session.

    The GGUF is linked into a session folder, so the conversion lands beside the link (never in the models
    folder); every Gemma test of the session shares it. Returns the conversion (its ``source.path`` is the
    link, its ``folder`` the safetensors cache).
    """
    import torch

    from pushkin.model.gguf import convert_gguf

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    link = tmp_path_factory.mktemp("gemma-270m") / gemma_270m_gguf.name
    link.symlink_to(gemma_270m_gguf)
    return convert_gguf(link)
