"""Tiny models and data for the training tests, built once per session.

The tiny Gemma and Whisper come from the model and hearing work's builders (see pushkin.training.proof);
the espeak-ng closed set is synthesized once per session into a session folder.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from .helpers import OBJECTS, SUBJECTS, VERBS

CONFIGS = Path(__file__).parent / "configs"


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("training")


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    import torch

    # The tiny models' ops are too small to split, and the CI machine has two shared cores.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_gemma(session_dir) -> Path:
    from pushkin.training.proof import build_proof_gemma

    return build_proof_gemma(session_dir / "gemma")


@pytest.fixture(scope="session")
def proof_whisper(session_dir) -> Path:
    from pushkin.training.proof import build_proof_whisper

    return build_proof_whisper(session_dir / "whisper")


@pytest.fixture(scope="session")
def closed_set(session_dir) -> tuple[Path, Path]:
    from pushkin.training.synth import build_closed_set

    return build_closed_set(session_dir / "closed")




@pytest.fixture(scope="session")
def rephrase_jsonl(session_dir) -> Path:
    """Active → passive rewrites with the rephrase task's real prompt; 16 sources of 10 pairs."""
    from pushkin.text_lora.tasks import build_prompt, get_task

    task = get_task("rephrase")
    rng = random.Random(0)
    path = session_dir / "rephrase.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(160):
            s, v, o = rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)
            record = {"prompt": build_prompt(task, f"{s.capitalize()} {v} {o}."),
                      "completion": f"{o.capitalize()} was {v} by {s}.", "source": f"doc{i % 16}"}
            out.write(json.dumps(record) + "\n")
    return path


@pytest.fixture(scope="session")
def author_corpus(session_dir) -> Path:
    from .helpers import write_author_corpus

    return write_author_corpus(session_dir / "author")
