"""Fit the answer policy (retrieval.answer.Policy) by leave-one-story-out cross-validation.

usage: python benchmarks/calibrate.py --squad ../shared/benchmarks/squad-dev-public --story ../shared/stories \\
           --story-questions ../shared/eval/story-dev.jsonl ../shared/eval/story-chat-dev.jsonl \\
           ../shared/eval/story-followup-dev.jsonl

The stories: each SQuAD article, asked its own questions (in SQuAD's wording and, where given, as people
chat them) and every 12th question of the other articles, which it must not answer with confidence; and
the story itself, asked its question sets (answerable, related but unanswered, off-topic; of a file of
conversations, the turns that stand on their own). Each story is a fold: the policy is fitted on the others
and measured on it, so the figures are what to expect of stories and questions the policy never saw. Then it
is fitted on all of them: those are the constants. Every constant of Policy is fitted here, none by hand.
"""

import argparse
import functools
import json
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from retrieval.answer import Outcome, Policy, answer
from retrieval.corpus import Corpus, load_corpus
from retrieval.evaluation import OFF_TOPIC_STRIDE, Question, holds, read_questions
from retrieval.index import Index

# Rankings tried: (passage weight, meaning weight, kind bonus).
RANKINGS = tuple((p, m, k) for p in (0.0, 0.25, 0.5) for m in (0.5, 1.0, 1.5, 2.0) for k in (1.0, 2.0, 3.0))
SIMILARITY_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
KIND_MISSING_PENALTIES = (0.0, 0.1, 0.2, 0.3, 0.5)
# How much a word's weight in coverage follows its specificity in the story (0: not at all).
SPECIFICITY_POWERS = (0.0, 0.5, 1.0, 1.5, 2.0)
# Rankings finding this little less than the best (hit + first, out of 2) count as equally good.
RANKING_TIE = 0.005
# The share of each kind of unanswerable question the confident threshold keeps from being answered with
# confidence: other stories' questions, and those about the story that it does not answer. Other stories'
# aim 0.02 above the 0.95 the shared measure asks, so that stories never seen stay above it.
NOT_CONFIDENT_TARGETS = {"elsewhere": 0.97, "related": 0.75, "offtopic": 1.0}
# Questions of other stories that the decline threshold declines outright, beside every off-topic one.
DECLINE_TARGET = 0.25
# Relatedness kept between the most related off-topic question and the decline threshold.
DECLINE_MARGIN = 0.05
_NEVER = Policy(answer_at=float("inf"), closest_at=float("-inf"))


@dataclass(frozen=True)
class Asked:
    """One question asked of one story, with what the policy needs to decide and to be judged."""

    story: str
    questions: str  # the question file it came from
    text: str
    kind: str  # own, elsewhere (another story's), related, offtopic
    coverage: float
    specific: dict[float, float]  # coverage with each word weighed by its specificity too, by specificity power
    similarity: float
    kind_missing: dict[tuple[float, float, float], bool]  # by ranking: no quote gives the kind of answer asked for
    hit: dict[tuple[float, float, float], bool]  # by ranking: a quote holds the answer
    first: dict[tuple[float, float, float], bool]  # by ranking: the first quote holds it


def asked(name: str, source: str, index: Index, questions: list[tuple[str, Question]]) -> Iterator[Asked]:
    for kind, question in questions:
        hit, first, kind_missing = {}, {}, {}
        for ranking in RANKINGS:
            policy = replace(_NEVER, passage_weight=ranking[0], meaning_weight=ranking[1], kind_bonus=ranking[2])
            result = answer(index, question.text, policy)
            quotes = [quote.text for quote in result.quotes]
            found = [any(holds(quote, gold) for quote in quotes) for gold in question.answers]
            kind_missing[ranking] = result.kind_missing
            hit[ranking] = bool(found) and (all(found) if question.all_answers else any(found))
            first[ranking] = bool(quotes) and any(holds(quotes[0], gold) for gold in question.answers)
        specific = {
            power: answer(index, question.text, replace(_NEVER, specificity_power=power)).specific_coverage
            for power in SPECIFICITY_POWERS
        }
        yield Asked(
            name, source, question.text, kind, result.coverage, specific, result.similarity, kind_missing, hit, first
        )


def squad_stories(folder: Path) -> Iterator[Asked]:
    corpus = load_corpus(folder / "corpus")
    files = [path for path in (folder / "questions.jsonl", folder / "chat-questions.jsonl") if path.exists()]
    sets = {path.stem: read_questions(path) for path in files}
    for document in corpus.documents:
        name = Path(document.doc_id).stem
        index = Index.build(Corpus((document,)))
        for source, questions in sets.items():
            own = [("own", q) for q in questions if q.document == name]
            others = [("elsewhere", q) for q in questions if q.document != name][::OFF_TOPIC_STRIDE]
            yield from asked(name, source, index, own + others)


def story(folder: Path, question_files: list[Path]) -> Iterator[Asked]:
    index = Index.build(load_corpus(folder))
    for path in question_files:
        questions = standing_alone(path) or read_questions(path)
        kinds = ["offtopic" if q.off_topic else "related" if q.related else "own" for q in questions]
        yield from asked("story", path.stem, index, list(zip(kinds, questions, strict=True)))


def standing_alone(path: Path) -> list[Question]:
    """Of a file of conversations ({"turns": [{"q", "kind", "context", "gold"}]}), the turns that need none of
    the turns before them, each a question on its own; none when the file holds questions, not conversations."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not all("turns" in row for row in rows):
        return []
    turns = [turn for row in rows for turn in row["turns"] if not turn.get("context")]
    return [
        Question(turn["q"], tuple(turn.get("gold") or ()), related=turn.get("kind") == "related-unanswerable")
        for turn in turns
    ]


def _per_set(own: list[Asked], measure: Callable[[Asked], float]) -> float:
    """The mean over question files of each file's mean: the 120 chat questions weigh as much as SQuAD's 1299."""
    sources = sorted({r.questions for r in own})
    return float(np.mean([np.mean([measure(r) for r in own if r.questions == source]) for source in sources]))


def _found(row: Asked, ranking: tuple[float, float, float]) -> float:
    return row.hit[ranking] + row.first[ranking]


def _confident(row: Asked, policy: Policy) -> bool:
    return _relatedness(row, policy) >= policy.answer_at


def _kept(row: Asked, policy: Policy) -> float:
    """What of the answer the reply keeps (in it, first): nothing when the question is declined."""
    return 0.0 if outcome(row, policy) is Outcome.DECLINED else _found(row, _ranking(policy))


def fit(rows: list[Asked]) -> Policy:
    own = [r for r in rows if r.kind == "own"]
    found = {k: _per_set(own, functools.partial(_found, ranking=k)) for k in RANKINGS}
    # Of the rankings as good as the best within noise, the one that leans least on the new signals.
    tied = [k for k in RANKINGS if found[k] >= max(found.values()) - RANKING_TIE]
    ranking = min(tied, key=lambda k: (k[1], k[2], k[0]))  # meaning weight, kind bonus, paragraph weight
    ranked = Policy(meaning_weight=ranking[1], passage_weight=ranking[0], kind_bonus=ranking[2])
    # Whether the story is related at all: the weighing that declines fewest of the questions it could answer, the
    # threshold staying above every off-topic question. Then, apart, whether the quotes answer: the weighing that
    # answers most with confidence, the threshold keeping the targets of unanswerable questions from it.
    declining = [
        _decline_threshold(rows, replace(ranked, specificity_power=power, decline_similarity_weight=weight))
        for power in SPECIFICITY_POWERS
        for weight in SIMILARITY_WEIGHTS
    ]
    kept = [_per_set(own, functools.partial(_kept, policy=policy)) for policy in declining]
    declines = declining[kept.index(max(kept))]
    answering = [
        _answer_threshold(rows, replace(declines, similarity_weight=weight, kind_missing_penalty=penalty))
        for weight in SIMILARITY_WEIGHTS
        for penalty in KIND_MISSING_PENALTIES
    ]
    confident = [_per_set(own, functools.partial(_confident, policy=policy)) for policy in answering]
    return answering[confident.index(max(confident))]


def _relatedness(row: Asked, policy: Policy) -> float:
    """As retrieval.answer weighs it to tell whether the quotes answer."""
    penalty = policy.kind_missing_penalty if row.kind_missing[_ranking(policy)] else 0.0
    return row.coverage + policy.similarity_weight * row.similarity - penalty


def _related_at_all(row: Asked, policy: Policy) -> float:
    """As retrieval.answer weighs it to tell whether the story is related at all."""
    return row.specific[policy.specificity_power] + policy.decline_similarity_weight * row.similarity


def _answer_threshold(rows: list[Asked], policy: Policy) -> Policy:
    """The lowest confident threshold that keeps the target of each kind of unanswerable question from confidence."""
    answer_at = max(
        float(np.quantile([_relatedness(r, policy) for r in rows if r.kind == kind], target)) + 1e-6
        for kind, target in NOT_CONFIDENT_TARGETS.items()
        if any(r.kind == kind for r in rows)
    )
    return replace(policy, answer_at=round(answer_at, 3))


def _decline_threshold(rows: list[Asked], policy: Policy) -> Policy:
    """The decline threshold below which every off-topic question and a quarter of the other stories' ones fall."""
    elsewhere = [_related_at_all(r, policy) for r in rows if r.kind == "elsewhere"]
    off_topic = [_related_at_all(r, policy) for r in rows if r.kind == "offtopic"]
    closest_at = max(float(np.quantile(elsewhere, DECLINE_TARGET)), max(off_topic, default=0.0) + DECLINE_MARGIN)
    return replace(policy, closest_at=round(closest_at, 3))


def outcome(row: Asked, policy: Policy) -> Outcome:
    if _related_at_all(row, policy) < policy.closest_at:
        return Outcome.DECLINED
    return Outcome.ANSWERED if _relatedness(row, policy) >= policy.answer_at else Outcome.CLOSEST


def _ranking(policy: Policy) -> tuple[float, float, float]:
    return policy.passage_weight, policy.meaning_weight, policy.kind_bonus


def figures(rows: list[Asked], policies: dict[str, Policy]) -> dict[str, float]:
    """What each story's rows get from the policy fitted for it."""
    decided = [(r, outcome(r, policies[r.story]), _ranking(policies[r.story])) for r in rows]
    own = [(r, o, w) for r, o, w in decided if r.kind == "own"]
    shares = {
        "reply holds the answer": np.mean([o is not Outcome.DECLINED and r.hit[w] for r, o, w in own]),
        "first quote holds it": np.mean([o is not Outcome.DECLINED and r.first[w] for r, o, w in own]),
        "answered with confidence": np.mean([o is Outcome.ANSWERED for _, o, _ in own]),
    }
    for kind, label in (("elsewhere", "other stories'"), ("related", "related"), ("offtopic", "off-topic")):
        outcomes = [o for r, o, _ in decided if r.kind == kind]
        if outcomes:
            shares[f"{label} not answered with confidence"] = np.mean([o is not Outcome.ANSWERED for o in outcomes])
            shares[f"{label} declined"] = np.mean([o is Outcome.DECLINED for o in outcomes])
    return {name: round(float(value), 3) for name, value in shares.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--squad", type=Path, required=True, help="corpus/*.txt, questions.jsonl, chat-questions.jsonl")
    parser.add_argument("--story", type=Path, required=True, help="the story's corpus")
    parser.add_argument("--story-questions", type=Path, nargs="+", required=True, help="question sets about the story")
    parser.add_argument("--keep", type=Path, help="also write what was measured here, for further study")
    args = parser.parse_args()
    rows = [*squad_stories(args.squad), *story(args.story, args.story_questions)]
    if args.keep:
        args.keep.write_bytes(pickle.dumps(rows))
    names = sorted({r.story for r in rows})
    held_out = {name: fit([r for r in rows if r.story != name]) for name in names}
    for name, policy in held_out.items():
        print(f"fitted without {name}: {policy}")
    print("cross-validated:", json.dumps(figures(rows, held_out), indent=1))
    final = fit(rows)
    print("fitted on all stories:", final)
    print("on the stories it was fitted on:", json.dumps(figures(rows, dict.fromkeys(names, final)), indent=1))


if __name__ == "__main__":
    main()
