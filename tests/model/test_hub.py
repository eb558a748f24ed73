"""HF_HUB_OFFLINE is read one way (model.hub), as huggingface_hub itself reads it."""

from __future__ import annotations

import pytest

from pushkin.model.hub import hub_offline


@pytest.mark.parametrize("hub, transformers, offline", [
    ("1", None, True), ("true", None, True), ("YES", None, True), ("on", None, True),
    ("0", None, False), ("", None, False), ("false", None, False), (None, None, False),
    (None, "1", True),  # the older name counts when the newer one is unset
    ("0", "1", False),  # ... and not when it is set
])
def test_hub_offline_reads_the_environment_like_huggingface_hub(hub, transformers, offline, monkeypatch):
    for name, value in (("HF_HUB_OFFLINE", hub), ("TRANSFORMERS_OFFLINE", transformers)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert hub_offline() is offline
