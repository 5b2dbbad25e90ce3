"""Conversations at scale: the memory of 100,000 chats, and what a follow-up costs beside the same question alone.

usage: python benchmarks/conversations.py [--chats 100000] [QUESTIONS.jsonl]

Each chat asks a few questions of the bundled story (from QUESTIONS, a story question file such as
../shared/eval/story-chat-dev.jsonl, else the story's example questions), each in the light of the
chat's earlier ones, and its conversation is kept as the bot keeps it. Prints the memory the
conversations hold (tracemalloc) and how many are still remembered once half an hour has passed, then
the median time of a question asked alone and asked as a follow-up.
"""

import argparse
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.memory import MAX_TURNS, QUIET_SECONDS, Memory
from bot.story import open_story
from retrieval import Turn, answer, read_in_context


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", nargs="?", type=Path)
    parser.add_argument("--chats", type=int, default=100_000)
    args = parser.parse_args()
    story = open_story(None)
    rows = [json.loads(line) for line in args.questions.open()] if args.questions else []
    questions = [row["q"] for row in rows if row.get("kind", "answerable") == "answerable"] or list(story.examples)
    # Real answers, asked once each; chats differ in which follow which and in their own question texts.
    answers = [answer(story.index, question) for question in questions]

    clock = Clock()
    memory = Memory(capacity=10 * args.chats, clock=clock)
    tracemalloc.start()
    for chat in range(args.chats):
        turns = tuple(
            Turn.of(f"{questions[(chat + n) % len(questions)]} #{chat}", answers[(chat + n) % len(answers)])
            for n in range(MAX_TURNS)
        )
        memory.remember(chat, turns)
        clock.now += 0.01
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    clock.now += QUIET_SECONDS
    for chat in range(1000):  # others keep talking: the quiet ones are dropped as they do
        memory.remember(("later", chat), ())
    print(f"{args.chats:,} conversations of {MAX_TURNS} turns: {held / 2**20:.1f} MB held, {peak / 2**20:.1f} MB peak")
    print(f"half an hour later, after 1,000 more conversations: {len(memory):,} remembered")

    alone, follow = [], []
    history = (Turn.of(questions[0], answers[0]),)
    for question in questions:
        start = time.perf_counter()
        answer(story.index, question)
        alone.append(time.perf_counter() - start)
        start = time.perf_counter()
        read_in_context(story.index, question, history)
        follow.append(time.perf_counter() - start)
    ratio = statistics.median(follow) / statistics.median(alone)
    print(
        f"{len(questions)} questions: median {statistics.median(alone) * 1000:.2f} ms alone, "
        f"{statistics.median(follow) * 1000:.2f} ms after an earlier question ({ratio:.2f}x)"
    )


if __name__ == "__main__":
    main()
