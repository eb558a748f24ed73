"""Data preparation: JSONL checks, corpora, source-isolated splits, audio manifests with clear errors."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile

from pushkin.training import audio_data, data
from pushkin.training.data import DataError, TextExample


def test_read_jsonl_names_the_bad_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "a"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"x.jsonl:2: 'completion' must be a non-empty string"):
        data.read_examples(path)
    path.write_text('{"prompt": "a", "completion": "b"}\nnot json\n')
    with pytest.raises(DataError, match=r"x.jsonl:2: not valid JSON"):
        data.read_examples(path)
    with pytest.raises(DataError, match="file not found"):
        data.read_examples(tmp_path / "missing.jsonl")


def test_split_keeps_sources_apart_and_drops_near_duplicates():
    examples = [TextExample(f"prompt {s} {i}", f"the completion number {i} of source {s}", f"src{s}")
                for s in range(10) for i in range(5)]
    # A training-side example that copies an eval-side one, word for word, under another source.
    split = data.split_by_source(examples, eval_fraction=0.2, seed=3)
    eval_sources = {e.source for e in split.eval}
    assert eval_sources and not eval_sources & {e.source for e in split.train}
    copy = split.eval[0]
    again = data.split_by_source(examples + [TextExample(copy.prompt, copy.completion, "elsewhere")],
                                 eval_fraction=0.2, seed=3)
    if "elsewhere" not in {e.source for e in again.eval}:
        assert again.dropped_near_duplicates >= 1
        assert all((e.prompt, e.completion) != (copy.prompt, copy.completion) for e in again.train)
    with pytest.raises(DataError, match="at least 2 sources"):
        data.split_by_source(examples[:5])


def test_corpus_continuations_in_english_and_russian(author_corpus, tmp_path):
    texts = data.read_corpus([author_corpus])
    examples = data.continuation_examples(texts, context_chars=200, completion_chars=160, block_paragraphs=5)
    assert any("писатель" in e.completion or "капитан" in e.completion for e in examples)
    assert all(len(e.completion) <= 160 for e in examples)
    assert len({e.source for e in examples}) > len(texts)  # files are cut into blocks
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "latin1.txt").write_bytes("café".encode("latin-1"))
    with pytest.raises(DataError, match="latin1.txt: not UTF-8"):
        data.read_corpus([tmp_path / "bad"])


def _wav(path, rate=16000, seconds=1.0, channels=1):
    samples = (np.sin(np.arange(int(rate * seconds)) * 0.05) * 8000).astype(np.int16)
    if channels > 1:
        samples = np.stack([samples] * channels, axis=1)
    soundfile.write(str(path), samples, rate, subtype="PCM_16")
    return path


def test_manifest_rejects_missing_audio_wrong_rate_and_empty_transcript(tmp_path):
    _wav(tmp_path / "ok.wav")
    _wav(tmp_path / "fast.wav", rate=22050)
    _wav(tmp_path / "stereo.wav", channels=2)
    lines = [
        {"audio": "ok.wav", "transcript": "hello there"},
        {"audio": "gone.wav", "transcript": "hello"},
        {"audio": "fast.wav", "transcript": "hello"},
        {"audio": "ok.wav", "transcript": "   "},
        {"audio": "stereo.wav", "transcript": "hello"},
        {"audio": "ok.wav", "command": "launch rockets"},
        {"audio": "ok.wav", "transcript": "x", "alignment": [{"word": "x", "start": 0.5, "end": 9.0}]},
    ]
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    with pytest.raises(audio_data.ManifestError) as error:
        audio_data.read_manifest(manifest)
    message = str(error.value)
    assert "6 bad lines" in message
    assert "m.jsonl:2: missing audio" in message
    assert "m.jsonl:3:" in message and "22050 Hz" in message and "16000 Hz" in message
    assert "m.jsonl:4: empty transcript" in message
    assert "m.jsonl:5:" in message and "needs mono" in message
    assert "m.jsonl:6:" in message and "outside the output language" in message
    assert "m.jsonl:7: alignment times" in message
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(lines[0]) + "\n" + json.dumps({"audio": "ok.wav", "command": "delete unit=word"}) + "\n")
    records = audio_data.read_manifest(good)
    assert [r.target for r in records] == ["dictate: hello there", "command: delete unit=word"]


def test_vad_pieces_mark_the_pause_inside_an_utterance(tmp_path):
    """Two words with a 0.6 s pause: the daemon's VAD yields speech, a Silence of about 0.6 s, speech."""
    words = []
    for name, text in (("a", "scratch"), ("b", "that")):
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(tmp_path / f"{name}.wav"), text], check=True)
        subprocess.run(["sox", str(tmp_path / f"{name}.wav"), "-r", "16000", str(tmp_path / f"{name}16.wav")],
                       check=True)
        words.append(soundfile.read(str(tmp_path / f"{name}16.wav"), dtype="int16")[0])
    gap = np.zeros(int(0.6 * 16000), np.int16)
    edge = np.zeros(int(0.4 * 16000), np.int16)
    clip = np.concatenate([edge, words[0], gap, words[1], edge])
    pieces = audio_data.vad_pieces(clip)
    silences = [p for p in pieces if isinstance(p, audio_data.Silence)]
    speech = [p for p in pieces if not isinstance(p, audio_data.Silence)]
    assert len(speech) == 2 and len(silences) == 1
    assert 0.4 <= silences[0].duration_s <= 0.9
    assert speech[0].dtype == np.float32 and np.abs(speech[0]).max() <= 1.0
    with pytest.raises(audio_data.ManifestError, match="no speech"):
        audio_data.vad_pieces(np.zeros(16000, np.int16))


def test_alignment_pieces_cut_at_word_gaps():
    samples = np.ones(32000, np.int16)
    timing = [audio_data.WordTiming("delete", 0.2, 0.6), audio_data.WordTiming("that", 1.1, 1.4)]
    pieces = audio_data.alignment_pieces(samples, timing, min_gap_s=0.15)
    assert [type(p).__name__ for p in pieces] == ["ndarray", "Silence", "ndarray"]
    assert pieces[1].duration_s == pytest.approx(0.5)


def test_prepare_cli_writes_prompt_completion_jsonl(author_corpus, tmp_path):
    from pushkin.text_lora.tasks import get_task
    from pushkin.training import prepare

    out = tmp_path / "continue.jsonl"
    assert prepare.main(["continuation", str(author_corpus), "--out", str(out), "--context-chars", "200",
                         "--completion-chars", "120"]) == 0
    examples = data.read_examples(out)
    assert len(examples) > 50 and all(e.source for e in examples)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"original": "Он открыл окно.", "rewritten": "Окно было открыто им."}) + "\n",
                     encoding="utf-8")
    assert prepare.main(["pairs", str(pairs), "--task", "rephrase", "--out", str(tmp_path / "r.jsonl")]) == 0
    (example,) = data.read_examples(tmp_path / "r.jsonl")
    assert get_task("rephrase").instruction_ru in example.prompt and example.completion == "Окно было открыто им."


def test_split_is_the_same_wherever_the_corpus_sits(tmp_path):
    # The sources are the split's hash keys: an absolute path in them gave CI another split than this machine.
    from .helpers import write_author_corpus

    here = write_author_corpus(tmp_path / "a" / "writing")
    there = write_author_corpus(tmp_path / "b" / "deeper" / "writing")
    splits = []
    for folder in (here, there):
        texts = data.read_corpus([folder])
        assert sorted(texts) == [f"writing/story{i}.txt" for i in range(8)]
        examples = data.continuation_examples(texts, context_chars=200, completion_chars=160)
        splits.append(data.split_by_source(examples, eval_fraction=0.25))
    assert splits[0] == splits[1]
    # Two folders with one name keep both sets of files apart.
    both = data.read_corpus([here, there])
    assert len(both) == 16 and len(set(both.values())) == 8


def _local_dataset(folder, rows):
    folder.mkdir(parents=True)
    with (folder / "train.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return folder


def test_hf_datasets_local_folder_loads_offline_with_stable_keys(tmp_path):
    rows = [{"text": "Утром писатель открыл окно.\n\nПотом он закрыл дверь, медленно.", "id": 1},
            {"text": "", "id": 2},
            {"text": "In the morning the baker opened the shop.\n\nLater he sold the bread, slowly.", "id": 3}]
    here = _local_dataset(tmp_path / "a" / "essays", rows)
    there = _local_dataset(tmp_path / "b" / "essays", rows)
    texts = data.load_hf_text(str(here))
    # The empty row is skipped; the keys name the folder, not where it sits.
    assert texts == {"essays/train/0": rows[0]["text"], "essays/train/2": rows[2]["text"]}
    assert data.load_hf_text(str(there)) == texts
    assert list(data.load_hf_text(str(here), limit=1)) == ["essays/train/0"]
    with pytest.raises(DataError, match="has no column 'body' \\(columns: .*text"):
        data.load_hf_text(str(here), text_field="body")
    with pytest.raises(DataError, match="limit must be 0"):
        data.load_hf_text(str(here), limit=-1)


def test_hf_datasets_hub_name_offline_is_a_clear_error():
    # The tests run with HF_DATASETS_OFFLINE=1 and an empty cache (see conftest).
    with pytest.raises(DataError, match="cannot load dataset 'someone/not-cached' \\(train\\)"):
        data.load_hf_text("someone/not-cached")


def test_prepare_cli_adds_a_hf_dataset_column(tmp_path):
    from pushkin.training import prepare

    paras = [f"Paragraph {i} of the essay, where the writer {'opened' if i % 2 else 'closed'} the window."
             for i in range(6)]
    dataset = _local_dataset(tmp_path / "essays", [{"body": "\n\n".join(paras)}, {"body": "Короткий абзац. " * 3}])
    out = tmp_path / "continue.jsonl"
    assert prepare.main(["continuation", "--hf", str(dataset), "--hf-field", "body", "--out", str(out),
                         "--context-chars", "200", "--completion-chars", "120"]) == 0
    examples = data.read_examples(out)
    assert {e.source.split("#")[0] for e in examples} == {"essays/train/0", "essays/train/1"}
    assert any(e.completion.startswith("Paragraph 3") for e in examples)
    with pytest.raises(DataError, match="no column 'text'"):
        prepare.main(["continuation", "--hf", str(dataset), "--out", str(out)])
