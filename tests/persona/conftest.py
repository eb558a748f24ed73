"""The persona tests' shared fixture, ``minilm`` (the real all-MiniLM-L6-v2, loaded once per session), lives
in tests/conftest.py: the daemon's persona service tests use it too."""
