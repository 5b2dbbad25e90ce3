"""The per-person rate limit, on a clock the test turns by hand."""

from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import limits
from bot.limits import RateLimit, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sliding_window_allows(times: list[float], per_minute: int) -> list[float]:
    """The events a strict sliding window lets through: at most `per_minute` in any sixty seconds."""
    allowed: list[float] = []
    recent: deque[float] = deque()
    for now in times:
        while recent and recent[0] <= now - 60:
            recent.popleft()
        if len(recent) < per_minute:
            recent.append(now)
            allowed.append(now)
    return allowed


def test_five_questions_a_minute_are_never_refused_by_the_smallest_limit() -> None:
    clock = Clock()
    limit = RateLimit(5, clock)
    for _ in range(10):  # ten minutes of five questions each
        assert [limit.check(1) for _ in range(5)] == [Verdict.ASK] * 5
        clock.now += 60


@given(
    per_minute=st.integers(1, 30),
    gaps=st.lists(st.floats(0, 40, allow_nan=False) | st.sampled_from([0.0, 60.0]), max_size=200),
)
def test_whoever_keeps_to_per_minute_in_every_minute_is_never_refused(per_minute: int, gaps: list[float]) -> None:
    times = [1000.0]
    for gap in gaps:
        times.append(times[-1] + gap)
    clock = Clock()
    limit = RateLimit(per_minute, clock)
    for now in sliding_window_allows(times, per_minute):
        clock.now = now
        assert limit.check(1) is Verdict.ASK


def test_over_the_limit_one_notice_then_silence_until_one_is_allowed_again() -> None:
    clock = Clock()
    limit = RateLimit(3, clock)  # a burst of 3, then one every 20 seconds
    assert [limit.check(1) for _ in range(6)] == [Verdict.ASK] * 3 + [Verdict.NOTICE] + [Verdict.IGNORE] * 2
    assert limit.check(2) is Verdict.ASK  # someone else is not held back
    assert limit.wait_seconds(1) == 20
    clock.now += 15
    assert limit.wait_seconds(1) == 5
    assert limit.check(1) is Verdict.IGNORE
    clock.now += 5
    assert limit.wait_seconds(1) == 0
    assert [limit.check(1) for _ in range(3)] == [Verdict.ASK, Verdict.NOTICE, Verdict.IGNORE]
    clock.now += 61  # quiet for a minute: the whole burst is back
    assert [limit.check(1) for _ in range(4)] == [Verdict.ASK] * 3 + [Verdict.NOTICE]


def test_after_a_burst_one_more_is_allowed_every_sixtieth_of_per_minute() -> None:
    clock = Clock()
    limit = RateLimit(6, clock)
    assert [limit.check(1) for _ in range(7)] == [Verdict.ASK] * 6 + [Verdict.NOTICE]
    verdicts = []
    for _ in range(200):  # flat out, one a second: one in ten is allowed, and each refusal after it told once
        clock.now += 1
        verdicts.append(limit.check(1))
    every_ten = [Verdict.NOTICE] + [Verdict.IGNORE] * 8 + [Verdict.ASK]
    assert verdicts == [Verdict.IGNORE] * 9 + [Verdict.ASK] + every_ten * 19


def test_wait_seconds_is_how_long_until_the_next_is_allowed() -> None:
    clock = Clock()
    limit = RateLimit(7, clock)  # 60/7 s apart: not a whole number of seconds
    assert limit.wait_seconds(1) == 0  # never seen
    for _ in range(6):
        assert limit.check(1) is Verdict.ASK
        assert limit.wait_seconds(1) == 0
    assert limit.check(1) is Verdict.ASK
    wait = limit.wait_seconds(1)
    assert wait == 9  # 8.57 seconds, rounded up
    assert limit.check(1) is Verdict.NOTICE
    clock.now += wait - 1
    assert limit.check(1) is Verdict.IGNORE and limit.wait_seconds(1) >= 1
    clock.now += 1
    assert limit.check(1) is Verdict.ASK


def test_quiet_people_are_forgotten_once_their_allowance_is_full_again() -> None:
    clock = Clock()
    limit = RateLimit(5, clock)
    for person in range(11):
        limit.check(person)
    limit.check(0)
    clock.now += 61
    for _ in range(10):
        limit.check(99)
    assert limit.remembered == 1
    assert [limit.check(0) for _ in range(6)] == [Verdict.ASK] * 5 + [Verdict.NOTICE]  # as if new


def test_remembered_people_are_bounded_by_those_active_in_the_last_minute() -> None:
    """The old limit kept up to 10,000 quiet people before it forgot any, then scanned them all."""
    clock = Clock()
    limit = RateLimit(5, clock)
    most = 0
    for person in range(100_000):  # one new person every hundredth of a second
        clock.now = 1000 + person / 100
        assert limit.check(person) is Verdict.ASK
        most = max(most, limit.remembered)
    active_in_a_minute = 60 * 100 + 1
    assert most <= active_in_a_minute
    assert most <= 12 * 100 + 1 + limits.FORGET_PER_EVENT  # even: one question is refilled in 12 seconds


def test_a_crowd_is_forgotten_a_few_at_a_time_not_in_one_scan() -> None:
    clock = Clock()
    limit = RateLimit(5, clock)
    for person in range(1000):
        limit.check(person)
    clock.now += 61
    limit.check(5000)
    assert limit.remembered == 1001 - limits.FORGET_PER_EVENT  # one event paid for a couple, not for all
    for _ in range(600):
        clock.now += 0.01
        limit.check(5000)
    assert limit.remembered == 1


@given(st.lists(st.tuples(st.integers(0, 5), st.floats(0, 20, allow_nan=False)), max_size=300))
def test_forgetting_never_changes_a_verdict(events: list[tuple[int, float]]) -> None:
    """Against the same limit that remembers everyone."""
    clock = Clock()
    limit = RateLimit(3, clock)
    full_at: dict[int, float] = {}
    told: set[int] = set()
    for person, gap in events:
        clock.now += gap
        at = max(full_at.get(person, clock.now), clock.now)
        if at + 20 - clock.now <= 60 + 1e-6:
            full_at[person] = at + 20
            told.discard(person)
            expected = Verdict.ASK
        elif person in told:
            expected = Verdict.IGNORE
        else:
            told.add(person)
            expected = Verdict.NOTICE
        assert limit.check(person) is expected


def test_each_limit_is_a_budget_of_its_own() -> None:
    clock = Clock()
    questions, presses = RateLimit(5, clock), RateLimit(30, clock)
    assert [questions.check(1) for _ in range(6)][-1] is Verdict.NOTICE
    assert all(presses.check(1) is Verdict.ASK for _ in range(30))
    assert presses.check(1) is Verdict.NOTICE


def test_a_limit_allows_at_least_one_a_minute() -> None:
    with pytest.raises(ValueError):
        RateLimit(0)
