"""Choose the decline threshold (retrieval.answer.MIN_COVERAGE) by leave-one-story-out cross-validation.

usage: python benchmarks/calibrate.py CORPUS QUESTIONS [--target 0.96]

Each document of CORPUS is a story of its own, as with `storybot eval --per-document`. For each
story, the threshold is fitted on the others (the lowest that declines TARGET of their off-topic
questions) and the story is measured with it; the figures over all stories are what to expect on
articles the threshold never saw.
"""

import argparse
from pathlib import Path

import numpy as np

from retrieval.answer import answer
from retrieval.corpus import Corpus, load_corpus
from retrieval.evaluation import Question, Tally, read_questions, stories
from retrieval.index import Index

GRID = np.round(np.arange(0.20, 0.90, 0.005), 3)

# (question, its quotes with no threshold, the coverage of the best passage), per story
Replies = list[tuple[Question, list[str], float]]


def replies(corpus: Corpus, questions: list[Question]) -> list[Replies]:
    found = []
    for documents, asked in stories(corpus, questions, per_document=True):
        index = Index.build(Corpus(documents))
        results = [answer(index, question.text, min_coverage=0.0) for question in asked]
        found.append([(q, [quote.text for quote in r.quotes], r.coverage) for q, r in zip(asked, results, strict=True)])
    return found


def fitted(story_replies: list[Replies], target: float) -> float:
    """The lowest threshold that declines `target` of the off-topic questions."""
    off_topic = np.array([coverage for story in story_replies for q, _, coverage in story if q.off_topic])
    declined = (off_topic[None, :] < GRID[:, None]).mean(axis=1)
    return float(GRID[np.argmax(declined >= target)] if (declined >= target).any() else GRID[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--target", type=float, default=0.96, help="share of off-topic questions to decline")
    args = parser.parse_args()
    story_replies = replies(load_corpus(args.corpus), read_questions(args.questions))
    held_out = Tally()
    thresholds = []
    for n, story in enumerate(story_replies):
        threshold = fitted(story_replies[:n] + story_replies[n + 1 :], args.target)
        thresholds.append(threshold)
        for question, quotes, coverage in story:
            held_out.record(question, quotes if coverage >= threshold else [], 0.0)
    rows = held_out.rows()
    print(f"thresholds fitted without each story: {', '.join(f'{t:.3f}' for t in thresholds)}")
    print(
        f"cross-validated: reply holds the answer {rows['reply holds the answer']:.3f}, "
        f"first quote {rows['first quote holds it']:.3f}, off-topic declined {rows['off-topic declined']:.3f}"
    )
    print(f"fitted on all stories: {fitted(story_replies, args.target):.3f}")


if __name__ == "__main__":
    main()
