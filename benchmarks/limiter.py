"""Time per event and peak memory of the per-person rate limit: a benchmark, not a test.

usage: python benchmarks/limiter.py [--people 100000] [--rounds 5]

Two mixes, on a simulated clock (each event's time read from a list, so that minutes pass in a
fraction of a second): "a crowd", every person at once within one minute (all must be remembered),
and "a stream", a new person every 5 ms (so the window holds a tenth of them). Besides each new person
there is a repeat from one of the last thousand, and every tenth step one from a person asking flat
out (refused). Time per event is the best of the rounds, with the loop that calls it; peak memory is
tracemalloc's over a separate run (tracemalloc slows the calls), the inputs excluded.
"""

import argparse
import random
import time
import tracemalloc
from collections.abc import Callable

from bot.limits import RateLimit

PER_MINUTE = 20  # the default questions_per_minute
FLOODER = -1


def events(people: int, seconds: float) -> tuple[list[int], list[float]]:
    """Who asks and when: `people` new people spread over `seconds`, with repeats and a flooder."""
    chooser = random.Random(12)
    who: list[int] = []
    when: list[float] = []
    step = seconds / people
    for person in range(people):
        now = 1000.0 + person * step
        who += [person, person - chooser.randrange(min(person, 1000) + 1)]
        when += [now, now + step / 3]
        if person % 10 == 0:
            who.append(FLOODER)
            when.append(now + step / 2)
    return who, when


def run(who: list[int], when: list[float]) -> RateLimit:
    clock: Callable[[], float] = iter(when).__next__
    limit = RateLimit(PER_MINUTE, clock)
    check = limit.check
    for person in who:
        check(person)
    return limit


def measure(name: str, who: list[int], when: list[float], rounds: int) -> None:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        limit = run(who, when)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    run(who, when)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        f"{name}: {len(who):,} events, {1e6 * best / len(who):.2f} µs an event, "
        f"peak {peak / 2**20:.1f} MB, {limit.remembered:,} people remembered at the end"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    crowd = events(args.people, 50.0)
    measure(f"a crowd, {args.people:,} people in 50 s", *crowd, args.rounds)
    del crowd
    stream = events(args.people, args.people * 0.005)
    measure(f"a stream, {args.people:,} people over {args.people * 0.005:,.0f} s", *stream, args.rounds)


if __name__ == "__main__":
    main()
