"""Tiny Gemma 3 checkpoints and adapters, built once per test process (see pushkin.model.tiny)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny():
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
