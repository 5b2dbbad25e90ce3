"""Start and per-question time of StoryBot on a story and a question file, warm: a benchmark, not a test.

usage: python benchmarks/answer_time.py QUESTIONS.jsonl [--corpus PATH] [--rounds 3]

Start is opening the story (meaning model, index, from the kept index when there is one); then each
question is asked once to warm the caches, and the median and 90th percentile of the next rounds are
printed, in milliseconds.
"""

import argparse
import statistics
import time
from pathlib import Path

from bot.story import open_story
from config import load_settings
from retrieval.answer import answer
from retrieval.evaluation import read_questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(corpus=args.corpus)
    questions = [question.text for question in read_questions(args.questions)]
    start = time.perf_counter()
    story = open_story(settings.corpus, settings.cache_dir)
    opened = time.perf_counter() - start
    for question in questions:
        answer(story.index, question)
    times = []
    for _ in range(args.rounds):
        for question in questions:
            start = time.perf_counter()
            answer(story.index, question)
            times.append(1000 * (time.perf_counter() - start))
    tenth = statistics.quantiles(times, n=10)[-1]
    print(
        f"start {opened:.2f} s; {len(questions)} questions warm: median {statistics.median(times):.2f} ms, "
        f"90th percentile {tenth:.2f} ms"
    )


if __name__ == "__main__":
    main()
