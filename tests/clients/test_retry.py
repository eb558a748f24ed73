"""The one backoff every Python reconnect loop uses."""

from pushkin.proto.retry import ReconnectPolicy


def test_delays_double_up_to_the_cap_without_jitter():
    policy = ReconnectPolicy(first_delay_s=0.5, max_delay_s=3.0, jitter=0.0)
    assert [policy.delay(attempt) for attempt in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert policy.delay(10_000) == 3.0  # a long outage does not overflow


def test_jitter_stays_within_its_band():
    policy = ReconnectPolicy(first_delay_s=1.0, max_delay_s=1.0, jitter=0.2)
    delays = {policy.delay(0) for _ in range(200)}
    assert all(0.8 <= d <= 1.2 for d in delays) and len(delays) > 1


def test_when_it_gives_up():
    assert not ReconnectPolicy().gives_up(10**6)  # max_attempts 0: forever
    assert ReconnectPolicy(enabled=False).gives_up(0)
    limited = ReconnectPolicy(max_attempts=3)
    assert [limited.gives_up(a) for a in range(5)] == [False, False, False, True, True]


async def test_an_editor_client_that_cannot_connect_reports_each_attempt_and_closes_at_once(tmp_path):
    import asyncio
    import time

    from pushkin.clients.editor import ConnectFailed, Connecting, EditorClient

    events = []
    client = EditorClient(f"unix://{tmp_path}/nobody.sock", on_event=events.append,
                          reconnect=ReconnectPolicy(first_delay_s=0.01, max_delay_s=0.02, jitter=0.0))
    client.start_retrying()
    for _ in range(500):
        if len([e for e in events if isinstance(e, ConnectFailed)]) >= 3:
            break
        await asyncio.sleep(0.01)
    failures = [e for e in events if isinstance(e, ConnectFailed)]
    assert len(failures) >= 3 and isinstance(events[0], Connecting)
    assert [f.retry_in_s for f in failures[:3]] == [0.01, 0.02, 0.02]
    assert "not reachable" in failures[0].reason and client.channel is None
    started = time.monotonic()
    await client.close()
    assert time.monotonic() - started < 0.5  # nothing to wait for: the retry loop is cancelled
