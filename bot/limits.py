"""How often one person may ask: enough for any reader, not enough to flood the bot.

Each person has an allowance of `per_minute` events that refills at `per_minute` a minute (a token
bucket, kept as GCRA does: one number per person, the time at which the allowance is full again).
Whoever keeps to `per_minute` in every sixty seconds is never refused: the allowance is at least what
a sliding window of sixty seconds would give, and after a burst one more comes every 60/per_minute s.

Each event costs O(1): a dictionary look-up and, when it is allowed, a move to the end of an ordered
dictionary, which is thereby ordered by the last allowed event. A person whose allowance is full again
is the same as one never seen, so the first people of that order are forgotten once theirs is full, a
couple on each event (never a scan of everyone); what is remembered follows the people active in the
last minute."""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum

WINDOW_SECONDS = 60.0
# Forgotten on each event at most: more than the one it may add, so the stale ones never pile up,
# and few, so that no one event pays for a crowd (as a full scan would).
FORGET_PER_EVENT = 2
# Float sums of 60/n drift by a few ulps; a microsecond of grace keeps the n-th of n events allowed.
_GRACE = 1e-6


class Verdict(Enum):
    ASK = "ask"  # answer it
    NOTICE = "notice"  # the first event over the limit: say so, once
    IGNORE = "ignore"  # further events over the limit: stay quiet until one is allowed again


class RateLimit:
    """At most `per_minute` events at once from one person, and `per_minute` a minute after that.

    `check(person)` counts an event and says what to do with it; `wait_seconds(person)` how long until
    the next one would be allowed. One instance is one budget: questions, or button presses, apart.
    """

    __slots__ = ("_full_at", "_interval", "_noticed", "_tolerance", "clock", "per_minute")

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, not {per_minute}")
        self.per_minute = per_minute
        self.clock = clock
        self._interval = WINDOW_SECONDS / per_minute  # one event's worth of allowance refills in this long
        # An event is allowed while the allowance is full again no later than this after it ("burst tolerance").
        self._tolerance = WINDOW_SECONDS - self._interval + _GRACE
        # person -> when their allowance is full again; only people for whom that is still to come
        # (and a few not yet forgotten), oldest allowed event first.
        self._full_at: OrderedDict[int, float] = OrderedDict()
        # person -> their _full_at when they were told; told again only after an allowed event moves it.
        self._noticed: dict[int, float] = {}

    def check(self, person: int) -> Verdict:
        now = self.clock()
        full_at = self._full_at
        at = full_at.get(person, now)
        if at < now:
            at = now
        if at - now <= self._tolerance:
            full_at[person] = at + self._interval
            full_at.move_to_end(person)
            verdict = Verdict.ASK
        elif self._noticed.get(person) == at:
            verdict = Verdict.IGNORE
        else:
            self._noticed[person] = at
            verdict = Verdict.NOTICE
        for _ in range(FORGET_PER_EVENT):  # this person is remembered and not full, so there is a first
            first = next(iter(full_at))
            if full_at[first] > now:
                break
            del full_at[first]
            if self._noticed:
                self._noticed.pop(first, None)
        return verdict

    def wait_seconds(self, person: int) -> int:
        """How long until the person may ask again: 0 if they may now, else at least 1 (rounded up)."""
        at = self._full_at.get(person)
        if at is None:
            return 0
        wait = at - self._tolerance - self.clock()
        return math.ceil(wait) if wait > 0 else 0

    @property
    def remembered(self) -> int:
        """How many people are remembered: those whose allowance is not full again, and a few not yet forgotten."""
        return len(self._full_at)

