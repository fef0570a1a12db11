"""How everything that tries again waits first: a request that lost a race, a storage
call DynamoDB throttled, an email SES throttled. Exponential backoff with full jitter (a
pause drawn uniformly between zero and the exponential step) within a time budget, so
that many writers of one order spread out instead of colliding in lockstep, and a writer
keeps trying while the budget lasts rather than for a fixed count (or, when given, at
most ``max_attempts``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


class Backoff:
    """Waits before each retry; ``wait`` is False, without waiting, once the budget is spent."""

    def wait(self, attempt: int) -> bool:
        raise NotImplementedError


def attempts(backoff: Backoff) -> Iterator[int]:
    """1, 2, 3, …: the first at once, each next one after the backoff's pause, for as long
    as it allows. A loop over it that has not returned when it ends has given up."""
    attempt = 1
    yield attempt
    while backoff.wait(attempt):
        attempt += 1
        yield attempt


class NoBackoff(Backoff):
    """Retry at once, up to ``attempts`` times: for tests and callers with nothing to wait for."""

    def __init__(self, attempts: int = 5) -> None:
        self._attempts = attempts

    def wait(self, attempt: int) -> bool:
        return attempt < self._attempts


@dataclass
class FullJitterBackoff(Backoff):
    budget_seconds: float
    base_seconds: float = 0.05
    cap_seconds: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    uniform: Callable[[float, float], float] = random.uniform
    max_attempts: int | None = None
    _deadline: float | None = field(default=None, init=False)

    def wait(self, attempt: int) -> bool:
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return False
        now = self.monotonic()
        if self._deadline is None:
            self._deadline = now + self.budget_seconds
        step = min(self.cap_seconds, self.base_seconds * 2 ** min(attempt, 30))
        pause = self.uniform(0, step)
        if now + pause >= self._deadline:
            return False
        self.sleep(pause)
        return True
