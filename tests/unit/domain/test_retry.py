"""Backoff after a lost race: full jitter within a time budget."""

from __future__ import annotations

from domain.retry import FullJitterBackoff, NoBackoff, attempts


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def backoff(clock: FakeTime, budget: float, draw: float = 1.0) -> FullJitterBackoff:
    """``draw`` is where in [0, step] each pause falls: 1.0 the top, 0.5 the middle."""
    return FullJitterBackoff(
        budget_seconds=budget,
        base_seconds=0.01,
        cap_seconds=0.08,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        uniform=lambda low, high: low + (high - low) * draw,
    )


def test_pauses_grow_exponentially_up_to_the_cap() -> None:
    clock = FakeTime()
    waiting = backoff(clock, budget=10)

    assert all(waiting.wait(attempt) for attempt in range(1, 7))

    assert clock.slept == [0.02, 0.04, 0.08, 0.08, 0.08, 0.08]


def test_each_pause_is_drawn_between_zero_and_the_step() -> None:
    clock = FakeTime()
    draws: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        draws.append((low, high))
        return high / 4

    waiting = FullJitterBackoff(
        budget_seconds=1, sleep=clock.sleep, monotonic=clock.monotonic, uniform=uniform
    )
    waiting.wait(1)
    waiting.wait(2)

    assert [low for low, _ in draws] == [0, 0]
    assert clock.slept == [draws[0][1] / 4, draws[1][1] / 4]


def test_retries_go_on_for_the_budget_and_stop_without_waiting_past_it() -> None:
    clock = FakeTime()
    waiting = backoff(clock, budget=1.0)

    attempts = 1
    while waiting.wait(attempts):
        attempts += 1

    assert attempts > 10, "a fixed count would have given up while time was left"
    assert sum(clock.slept) <= 1.0
    assert clock.now - 100.0 <= 1.0


def test_the_budget_starts_at_the_first_retry_and_is_not_renewed() -> None:
    clock = FakeTime()
    waiting = backoff(clock, budget=0.1)

    assert waiting.wait(1)
    clock.now += 0.2

    assert not waiting.wait(2)


def test_no_backoff_allows_a_fixed_number_of_attempts_without_waiting() -> None:
    waiting = NoBackoff(attempts=3)

    assert [waiting.wait(attempt) for attempt in range(1, 5)] == [True, True, False, False]


def test_attempts_come_at_once_then_after_each_pause_until_the_backoff_gives_up() -> None:
    clock = FakeTime()
    waiting = backoff(clock, budget=10)
    waiting.max_attempts = 3

    assert list(attempts(waiting)) == [1, 2, 3]
    assert clock.slept == [0.02, 0.04]
    assert list(attempts(NoBackoff(attempts=1))) == [1]
