"""The spoken training set spoken by the real Piper voice (the real tier: `pushkin models fetch piper-joe`)."""

from __future__ import annotations

import json
from pathlib import Path

from pushkin.training import spoken_set
from pushkin.training.audio_data import read_manifest


def test_a_small_build_with_the_piper_voice(piper_voice, tmp_path):
    options = spoken_set.SpokenSetOptions(out_dir=str(tmp_path / "set"), size=5, festival=False,
                                          piper_voice=str(piper_voice), pause_fraction=0.6, neural_fraction=1.0,
                                          russian_fraction=0.0, command_fraction=0.0)
    spoken_set.build(options)
    lines = [json.loads(line) for line in (Path(options.out_dir) / "train.jsonl").read_text().splitlines()]
    assert {line["engine"] for line in lines} == {"piper"}
    assert len(read_manifest(Path(options.out_dir) / "train.jsonl")) == 4
