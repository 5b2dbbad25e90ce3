"""The per-person question limit, on a clock the test turns by hand."""

from bot import limits
from bot.limits import QuestionLimit, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_questions_a_minute_are_never_refused_by_the_smallest_limit() -> None:
    clock = Clock()
    limit = QuestionLimit(5, clock)
    for _ in range(10):  # ten minutes of five questions each
        assert [limit.check(1) for _ in range(5)] == [Verdict.ASK] * 5
        clock.now += 60


def test_over_the_limit_one_notice_then_silence_until_the_window_frees() -> None:
    clock = Clock()
    limit = QuestionLimit(3, clock)
    assert [limit.check(1) for _ in range(6)] == [Verdict.ASK] * 3 + [Verdict.NOTICE] + [Verdict.IGNORE] * 2
    assert limit.check(2) is Verdict.ASK  # someone else is not held back
    clock.now += 20
    assert limit.wait_seconds(1) == 40
    clock.now += 41
    assert limit.check(1) is Verdict.ASK
    assert [limit.check(1) for _ in range(3)] == [Verdict.ASK, Verdict.ASK, Verdict.NOTICE]


def test_people_quiet_for_a_minute_are_forgotten_when_many_are_remembered(monkeypatch) -> None:
    monkeypatch.setattr(limits, "FORGET_AFTER_PEOPLE", 10)
    clock = Clock()
    limit = QuestionLimit(5, clock)
    for person in range(11):
        limit.check(person)
    clock.now += 61
    limit.check(99)
    assert list(limit._asked) == [99]
