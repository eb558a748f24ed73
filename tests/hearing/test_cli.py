"""`pushkin transcribe` and `pushkin devices` through the real CLI entry point."""

from __future__ import annotations

import soundfile

from pushkin.clients.cli import main

from .speech import compose


def test_transcribe_prints_timed_utterances(tmp_path, clips, tiny_whisper, capsys):
    path = tmp_path / "two.wav"
    scene = compose([0.4, clips["scratch"], 0.9, clips["formal"], 0.6])
    soundfile.write(path, scene.audio, 16000, subtype="PCM_16")
    # The random model's text is noise; thresholds are on, so this checks timing lines or the no-speech message.
    code = main(["transcribe", str(path), "--model", str(tiny_whisper), "--no-download"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "Loading Whisper model" in err and "Loaded faster-whisper" in err
    lines = [line for line in out.splitlines() if line.startswith("[")]
    assert lines or "No speech recognized." in err
    for line, (start, _) in zip(lines, scene.spans):
        assert abs(float(line[1:8]) - start) < 0.06


def test_transcribe_reports_a_bad_file_and_a_missing_model(tmp_path, capsys):
    assert main(["transcribe", str(tmp_path / "absent.wav"), "--no-download"]) == 1
    assert "not found" in capsys.readouterr().err
    path = tmp_path / "ok.wav"
    soundfile.write(path, [0.0] * 1600, 16000)
    assert main(["transcribe", str(path), "--model", "small", "--no-download"]) == 1
    assert "huggingface-cli download Systran/faster-whisper-small" in capsys.readouterr().err


def test_devices_says_when_there_are_none_or_lists_them(capsys):
    from pushkin.daemon.hearing.sources import list_input_devices

    code = main(["devices"])
    out = capsys.readouterr().out
    if list_input_devices():
        assert code == 0 and out.strip()
    else:
        assert code == 1 and "No audio input devices" in out
