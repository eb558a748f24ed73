"""The hearing fixtures (speech clips, the tiny Whisper) live in tests/conftest.py: the daemon's tests use them too."""
