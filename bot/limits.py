"""How many questions one person may ask: enough for any reader, not enough to flood the bot."""

import time
from collections import deque
from collections.abc import Callable
from enum import Enum

WINDOW_SECONDS = 60.0
FORGET_AFTER_PEOPLE = 10_000  # past this many people remembered, those quiet for a minute are forgotten


class Verdict(Enum):
    ASK = "ask"  # answer it
    NOTICE = "notice"  # the first question over the limit: say so, once
    IGNORE = "ignore"  # further questions over the limit: stay quiet


class QuestionLimit:
    """At most `per_minute` questions from one person in any sixty seconds (a sliding window)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._asked: dict[int, deque[float]] = {}
        self._noticed: set[int] = set()

    def check(self, person: int) -> Verdict:
        now = self.clock()
        if len(self._asked) > FORGET_AFTER_PEOPLE:
            self._forget(now)
        asked = self._asked.setdefault(person, deque())
        while asked and asked[0] <= now - WINDOW_SECONDS:
            asked.popleft()
        if len(asked) < self.per_minute:
            asked.append(now)
            self._noticed.discard(person)
            return Verdict.ASK
        if person in self._noticed:
            return Verdict.IGNORE
        self._noticed.add(person)
        return Verdict.NOTICE

    def _forget(self, now: float) -> None:
        """Drop the people who have not asked within the window, so that memory follows the active ones."""
        for person in [p for p, asked in self._asked.items() if not asked or asked[-1] <= now - WINDOW_SECONDS]:
            del self._asked[person]
            self._noticed.discard(person)

    def wait_seconds(self, person: int) -> int:
        """How long until the person may ask again."""
        asked = self._asked.get(person)
        return max(1, round(asked[0] + WINDOW_SECONDS - self.clock())) if asked else 0
