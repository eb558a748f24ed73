"""The spoken training set: sentences, command coverage and targets, the room mix, manifests, a small real build."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pushkin.audio_lora.splice import Silence
from pushkin.daemon.intent.decided import reading_of_command
from pushkin.daemon.intent.grammar import BUILTIN_RULES
from pushkin.model.output_language import CommandOutput, parse_output_line
from pushkin.training import spoken_set
from pushkin.training.audio_data import read_manifest, record_pieces, target_line
from pushkin.training.mixing import PEAK_LIMIT, REFERENCE_RMS_DBFS, coloured_noise, mix, rms
from pushkin.training.spoken_commands import expand_pattern, reading, say_command, sayable_variants
from pushkin.training.spoken_text import (
    EN_PLACES,
    RU_PLACES,
    generate_sentence,
    ru_noun_phrase,
    ru_past,
    ru_present,
    split_held_out,
)

# ------------------------------------------------------------------------------------------------ sentences


@pytest.mark.parametrize("language, places", [("en", EN_PLACES), ("ru", RU_PLACES)])
def test_held_out_sentences_never_occur_in_training(language, places):
    rng = random.Random(7)
    train = {generate_sentence(language, rng, held_out=False).text for _ in range(1500)}
    held = {generate_sentence(language, rng, held_out=True).text for _ in range(400)}
    assert len(train) > 1000 and len(held) > 300  # open, not a closed list
    assert not train & held
    # A held-out entry is never drawn for training: its held-out places appear in held-out sentences only.
    held_places = split_held_out(places)[1]
    assert not [s for s in train if any(place in s for place in held_places)]
    assert [s for s in held if any(place in s for place in held_places)]


def test_russian_words_agree():
    assert ru_past("прочита", "m") == "прочитал"
    assert ru_past("прочита", "f") == "прочитала"
    assert ru_past("прочита", "pl") == "прочитали"
    assert ru_past(("нашёл", "нашла", "нашло", "нашли"), "f") == "нашла"
    assert ru_present(("читает", "читают"), "pl") == "читают"
    assert ru_present(("читает", "читают"), "f") == "читает"
    assert ru_noun_phrase("книгу", "f", "новый", accusative=True) == "новую книгу"
    assert ru_noun_phrase("сестра", "f", "старый", accusative=False) == "старая сестра"
    assert ru_noun_phrase("письмо", "n", "мой", accusative=True) == "моё письмо"
    # In generated sentences a woman's name takes the feminine past (or the present), never the masculine.
    rng = random.Random(3)
    verbs_after_anna = [s.text.split()[1] for s in (generate_sentence("ru", rng, held_out=False) for _ in range(3000))
                        if s.text.startswith("Анна ")]
    assert verbs_after_anna
    assert all(verb.endswith(("ла", "т")) for verb in verbs_after_anna), verbs_after_anna


# ------------------------------------------------------------------------------------------------ commands


def test_patterns_expand_to_every_choice():
    assert expand_pattern("undo [(that|it)]") == [("undo", "that"), ("undo", "it"), ("undo",)]
    assert len(expand_pattern("go to [the] (start|beginning|top) [of [the] document]")) == 2 * 3 * 3


def test_every_grammar_command_and_rule_can_be_said():
    sayable = sayable_variants()
    assert {rule.command for rule in BUILTIN_RULES} | {"accept", "reject", "punctuation"} <= {v.command for v in sayable}
    assert {rule.pattern for rule in BUILTIN_RULES} <= {v.source for v in sayable}
    assert {v.language for v in sayable} == {"en", "ru"}


def test_targets_lead_the_daemon_to_the_command_that_was_said():
    """Every command variant's target is a ``command:`` line, and the daemon's mapping of it
    (:func:`reading_of_command`) is the engine command, with the same arguments, that the spoken words are
    read as; its phrase is read so too (a proposal decision is its phrase alone)."""
    rng = random.Random(0)
    variants = sayable_variants()
    for variant in variants:
        said = say_command(variant, rng, held_out=False, filler=rng.random() < 0.3)
        assert said is not None
        output = parse_output_line(said.target)
        assert isinstance(output, CommandOutput), said
        mapped = reading_of_command(output)
        if mapped.command is not None:
            assert (mapped.command.name, dict(mapped.command.args)) == reading(said.text), said
        assert reading(mapped.phrase) == reading(said.text), said
    assert len(variants) > 600


def test_training_holds_every_variant_and_dictation_is_never_a_command(tmp_path):
    options = spoken_set.SpokenSetOptions(out_dir=str(tmp_path), size=2600, piper_voice="piper.onnx")
    planned = spoken_set.plan(options)
    assert planned == spoken_set.plan(options)  # deterministic from the seed
    assert planned != spoken_set.plan(replace(options, seed=1))
    train_variants = {u.variant for u in planned if u.split == "train" and u.kind == "command"}
    assert {f"{v.source} :: {v.key}" for v in sayable_variants()} <= train_variants
    dictated = [u for u in planned if u.kind != "command"]
    assert all(reading(u.spoken) is None and u.target == f"dictate: {u.spoken}" for u in dictated)
    command_words = [u.spoken for u in planned if u.kind == "command-words"]
    assert any("period" in s for s in command_words) and any("строка" in s for s in command_words)
    # Held-out voices are never training's.
    voices = {split: {u.voice.label for u in planned if u.split == split} for split in spoken_set.SPLITS}
    assert voices["heldout"] and not voices["train"] & voices["heldout"]
    assert Counter(u.voice.engine for u in planned).keys() >= {"espeak-ng", "piper", "festival"}
    paused = [u for u in planned if u.pauses_s]
    assert 0.15 < len(paused) / len(planned) < 0.5
    assert all(0.4 <= p <= 1.2 for u in paused for p in u.pauses_s)


# ------------------------------------------------------------------------------------------------ the room


def test_noise_colours_fall_with_frequency():
    rng = np.random.default_rng(0)
    for colour in ("pink", "brown"):
        noise = coloured_noise(colour, 64000, rng)
        assert abs(rms(noise) - 1.0) < 1e-9
    power = {c: np.abs(np.fft.rfft(coloured_noise(c, 64000, rng))) ** 2 for c in ("pink", "brown")}
    frequencies = np.fft.rfftfreq(64000, 1 / 16000)
    low, high = (frequencies > 20) & (frequencies < 200), (frequencies > 2000) & (frequencies < 8000)
    ratio = {c: p[low].mean() / p[high].mean() for c, p in power.items()}
    assert 5 < ratio["pink"] < ratio["brown"]


def test_mix_keeps_the_snr_gain_pauses_and_never_clips():
    rng = np.random.default_rng(1)
    pieces = [(np.sin(np.arange(n) / 7.0) * 30000 * rng.uniform(0.3, 1.0, n)).astype(np.int16) for n in (9000, 14000)]
    for trial in range(30):
        snr, gain, pause = rng.uniform(10, 30), rng.uniform(-12, 6), rng.uniform(0.4, 1.2)
        clip = mix(pieces, [pause], lead_s=0.3, tail_s=0.5, noise=("pink", "brown")[trial % 2], snr_db=snr,
                   gain_db=gain, rng=np.random.default_rng(trial))
        assert np.abs(clip.samples.astype(np.int32)).max() <= PEAK_LIMIT * 32767 + 1
        assert -12 <= clip.gain_db <= gain + 1e-9
        (_, end_a), (start_b, _) = clip.speech_spans
        assert abs((start_b - end_a) - pause) < 1 / 16000 + 1e-9
        # Take the speech back out (it is known exactly) and measure what is left: the noise.
        speech = np.zeros(len(clip.samples))
        scale = 10 ** (REFERENCE_RMS_DBFS / 20) * 32768 / rms(np.concatenate(pieces).astype(np.float64))
        for piece, (start, _) in zip(pieces, clip.speech_spans):
            at = int(round(start * 16000))
            speech[at:at + len(piece)] = piece * scale * 10 ** (clip.gain_db / 20)
        noise = clip.samples - speech
        measured_snr = 20 * np.log10(rms(np.concatenate(pieces).astype(np.float64)) * scale * 10 ** (clip.gain_db / 20)
                                     / rms(noise))
        assert abs(measured_snr - snr) < 0.1


# ------------------------------------------------------------------------------------------------ real builds


def _small_options(tmp_path: Path, **changes) -> spoken_set.SpokenSetOptions:
    settings = {"size": 10, "festival": False, "piper_voice": "", "pause_fraction": 0.6} | changes
    return spoken_set.SpokenSetOptions(out_dir=str(tmp_path / "set"), **settings)


def test_a_small_espeak_build_reads_back_as_a_manifest_and_rebuilds_from_its_cache(tmp_path):
    from pushkin.training.speakers import require_engine

    require_engine("espeak-ng")
    options = _small_options(tmp_path)
    report = spoken_set.build(options)
    out = Path(options.out_dir)
    assert report["synthesized"] == 10 and report["splits"]["train"]["utterances"] == 8
    for split in spoken_set.SPLITS:
        records = read_manifest(out / f"{split}.jsonl")
        lines = [json.loads(line) for line in (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(records) == len(lines) == report["splits"][split]["utterances"]
        for record, line in zip(records, lines):
            assert line["split"] == split and line["engine"] == "espeak-ng" and record.source == line["voice"]
            assert 10 <= line["noise_db"] <= 30 and -12 <= line["gain_db"] <= 6
            assert record.target.startswith(("dictate: ", "command: "))
            if line["pauses_s"]:  # the pause reaches the speech-LLM as a silence marker
                silences = [p.duration_s for p in record_pieces(record) if isinstance(p, Silence)]
                assert any(abs(s - line["pauses_s"][0]) < 0.25 for s in silences), (silences, line)
    manifest = (out / "train.jsonl").read_bytes()
    again = spoken_set.build(options)
    assert again["synthesized"] == 0 and (out / "train.jsonl").read_bytes() == manifest


def test_retarget_rewrites_command_targets_from_the_words_without_audio(tmp_path):
    """A manifest made before a command had a name (``transcript`` = the words) gets its ``command:`` target from
    the engine's reading of its words; dictation stays; ``--retarget-to`` makes audio paths absolute."""
    records = [
        {"audio": "clips/a.wav", "transcript": "Go to the end", "text": "go to the end", "kind": "command",
         "intent": "go_to where=end"},
        {"audio": "clips/b.wav", "transcript": "Replace Monday with Friday.", "text": "um, replace Monday with Friday",
         "kind": "command", "intent": "replace x=Monday y=Friday"},
        {"audio": "clips/c.wav", "transcript": "The period ends soon.", "text": "The period ends soon.",
         "kind": "dictation"},
    ]
    (tmp_path / "heldout.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    counts = spoken_set.main(["--out", str(tmp_path), "--retarget", "--retarget-to", str(tmp_path / "v2")])
    assert counts == 0
    rewritten = [json.loads(line) for line in (tmp_path / "v2" / "heldout.jsonl").read_text().splitlines()]
    assert rewritten[0]["command"] == "go_to where=end" and "transcript" not in rewritten[0]
    assert rewritten[1]["command"] == 'replace x="Monday" y="Friday"' and rewritten[1]["intent"] == "replace x=Monday y=Friday"
    assert rewritten[2] == {**records[2], "audio": str(tmp_path / "clips/c.wav")}
    assert all(Path(r["audio"]).is_absolute() for r in rewritten)
    assert parse_output_line(target_line(rewritten[1])) == CommandOutput("replace", {"x": "Monday", "y": "Friday"})
