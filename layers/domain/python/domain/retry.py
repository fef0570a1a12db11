"""How a request waits before deciding again after losing a race: exponential backoff with
full jitter (a pause drawn uniformly between zero and the exponential step) within a time
budget, so that many writers of one order spread out instead of colliding in lockstep,
and a writer keeps trying while the budget lasts rather than for a fixed count.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class Backoff:
    """Waits before each retry; ``wait`` is False, without waiting, once the budget is spent."""

    def wait(self, attempt: int) -> bool:
        raise NotImplementedError


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
    _deadline: float | None = field(default=None, init=False)

    def wait(self, attempt: int) -> bool:
        now = self.monotonic()
        if self._deadline is None:
            self._deadline = now + self.budget_seconds
        step = min(self.cap_seconds, self.base_seconds * 2 ** min(attempt, 30))
        pause = self.uniform(0, step)
        if now + pause >= self._deadline:
            return False
        self.sleep(pause)
        return True
