"""How every Python reconnect loop waits between attempts (the editor client, the bridge, the microphone).

It lives in proto, the one layer both the clients and the daemon may import.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff: ``first_delay_s`` doubling up to ``max_delay_s``, each delay scaled by a random
    factor in [1 - jitter, 1 + jitter] so that many clients of one restarted daemon do not retry in step.
    ``max_attempts`` 0 retries forever; ``enabled`` False does not retry at all."""

    first_delay_s: float = 0.1
    max_delay_s: float = 5.0
    max_attempts: int = 0
    enabled: bool = True
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        """How long to wait before retry number ``attempt`` (0 for the first retry after a success)."""
        base = min(self.max_delay_s, self.first_delay_s * (2 ** min(attempt, 64)))
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)

    def gives_up(self, attempt: int) -> bool:
        """Whether retry number ``attempt`` is one too many."""
        return not self.enabled or bool(self.max_attempts) and attempt >= self.max_attempts
