"""The Python client library for the lil Pushkin daemon (never imports torch), and the `pushkin` CLI.

- :class:`pushkin.clients.buffer.EditorBuffer` — a versioned text buffer that applies edit batches with
  version checks and answers APPLIED / STALE / FAILED.
- :class:`pushkin.clients.editor.EditorClient` — an editor's Connect stream: documents, focus, pushed
  batches, reconnect with backoff.
- :class:`pushkin.clients.daemon_client.DaemonClient` — SendUtterance, GetStatus, SetListening,
  StreamAudio.
- :mod:`pushkin.clients.connection` — addresses and tokens, with the daemon's own defaults.
- :mod:`pushkin.clients.offsets` — converting UTF-16 / UTF-8 offsets to the contract's code points.

Import from the submodules; this package imports nothing itself so that `pushkin --help` stays fast.
"""
