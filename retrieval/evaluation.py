"""Measuring answers on question sets, side by side with plain BM25 in the same run.

Two formats of question file are read, one JSON object per line: SQuAD's (`question`, `answers`,
`article`, `is_impossible`) and the story sets' (`q`, `gold`, `kind`, `both`).
"""

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rank_bm25 import BM25Okapi

from retrieval.answer import answer
from retrieval.corpus import Corpus, Document
from retrieval.errors import EvaluationError
from retrieval.index import Index

BASELINE_QUOTES = 3
# With one story per document, the questions of the other documents are asked too, and must be
# declined: every OFF_TOPIC_STRIDE-th of them, as ../shared/eval/squad_eval.py does.
OFF_TOPIC_STRIDE = 12

# A system answers a question with an outcome ("answered", "closest", "declined") and quotes, best first.
Reply = tuple[str, list[str]]
System = Callable[[str], Reply]

# The kind of a question, by the word it asks with, for first-quote precision per kind.
_QUESTION_KIND = re.compile(r"\b(how (?:many|much|fast|far|long|old)|when|where|who|why|how|which|what)\b", re.I)

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})
_NAIVE_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")
_NAIVE_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[str, ...]  # none: the story does not answer it
    all_answers: bool = False  # a good reply holds every answer, not just one
    document: str | None = None  # the document it was written about
    related: bool = False  # unanswered, yet about the story: not to be answered with confidence, not declined

    @property
    def off_topic(self) -> bool:
        """Nothing in the story is related: to be declined outright."""
        return not self.answers and not self.related


@dataclass
class Tally:
    """What one system did with a question set."""

    answerable: int = 0
    hits: int = 0
    first_hits: int = 0
    answered_right: int = 0
    closest_right: int = 0
    wrong: int = 0  # quotes given, none holding the answer
    missed: int = 0  # an answerable question declined
    related: int = 0
    related_confident: int = 0
    off_topic: int = 0
    declined: int = 0
    not_confident: int = 0  # off-topic, and not answered with confidence
    quotes: int = 0
    quoted_chars: int = 0
    seconds: float = 0.0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [asked, first quote holds it]

    def record(self, question: Question, reply: Reply, seconds: float) -> None:
        outcome, quotes = reply
        self.seconds += seconds
        if question.off_topic:
            self.off_topic += 1
            self.declined += outcome == "declined"
            self.not_confident += outcome != "answered"
            return
        if question.related:
            self.related += 1
            self.related_confident += outcome == "answered"
            return
        self.answerable += 1
        found = [any(holds(quote, gold) for quote in quotes) for gold in question.answers]
        hit = all(found) if question.all_answers else any(found)
        first = bool(quotes) and any(holds(quotes[0], gold) for gold in question.answers)
        self.hits += hit
        self.first_hits += first
        self.answered_right += hit and outcome == "answered"
        self.closest_right += hit and outcome == "closest"
        self.wrong += bool(quotes) and not hit
        self.missed += outcome == "declined"
        kind = self.by_kind.setdefault(question_kind(question.text), [0, 0])
        kind[0] += 1
        kind[1] += first
        self.quotes += len(quotes)
        self.quoted_chars += sum(map(len, quotes))

    @property
    def questions(self) -> int:
        return self.answerable + self.related + self.off_topic

    def rows(self) -> dict[str, float | None]:
        """The figures, None where the question set has nothing to measure them on."""
        answerable, off_topic, related = self.answerable or None, self.off_topic or None, self.related or None
        kinds = sorted(self.by_kind.items())
        by_kind = {f"first quote holds it: {kind}": first / asked for kind, (asked, first) in kinds}
        return {
            "reply holds the answer": answerable and self.hits / answerable,
            "first quote holds it": answerable and self.first_hits / answerable,
            "answered, and right": answerable and self.answered_right / answerable,
            "closest, and right": answerable and self.closest_right / answerable,
            "quoted, but wrong": answerable and self.wrong / answerable,
            "answerable, but declined": answerable and self.missed / answerable,
            "related, answered with confidence": related and self.related_confident / related,
            "off-topic declined": off_topic and self.declined / off_topic,
            "off-topic not answered with confidence": off_topic and self.not_confident / off_topic,
            "quotes per answer": answerable and self.quotes / answerable,
            "quoted characters per answer": answerable and self.quoted_chars / answerable,
            "milliseconds per question": self.questions and 1000 * self.seconds / self.questions,
            **by_kind,
        }


def question_kind(text: str) -> str:
    """The word a question asks with ("why", "how many", ...), or "other"."""
    match = _QUESTION_KIND.search(text)
    return " ".join(match.group(1).lower().split()) if match else "other"


class PlainBM25:
    """The baseline: rank-bm25 over naively split sentences, lower-cased words, the top three, never declining."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.sentences = [
            sentence
            for document in documents
            for paragraph in document.paragraphs
            for sentence in _NAIVE_SENTENCE_END.split(paragraph.strip())
            if sentence.strip()
        ]
        self._bm25 = BM25Okapi([_naive_words(sentence) for sentence in self.sentences])

    def __call__(self, question: str) -> Reply:
        scores = self._bm25.get_scores(_naive_words(question))
        return "answered", [self.sentences[i] for i in np.argsort(-scores, kind="stable")[:BASELINE_QUOTES]]


def storybot(index: Index) -> System:
    def reply(question: str) -> Reply:
        result = answer(index, question)
        return result.outcome.value, [quote.text for quote in result.quotes]

    return reply


def read_questions(path: Path) -> list[Question]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    questions = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = _question(row)
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError) as error:
            raise EvaluationError(f"{path}, line {number}: not a question ({error})") from None
        if question:
            questions.append(question)
    if not questions:
        raise EvaluationError(f"{path} holds no questions")
    return questions


def _question(row: dict[str, Any]) -> Question | None:
    """One line of a question file; None for SQuAD's unanswerable questions, which are about the story yet
    have no answer in it, so that neither answering nor declining them is right."""
    if row.get("is_impossible"):
        return None
    text = row.get("question", row.get("q"))
    answers = row.get("answers", row.get("gold")) or []
    if not isinstance(text, str) or not all(isinstance(a, str) for a in answers):
        raise ValueError("it needs a question text and answers that are strings")
    kind = row.get("kind", "answerable")
    if not answers and kind not in ("offtopic", "related-unanswerable"):
        raise ValueError('a question with no answers must have "kind": "offtopic" or "related-unanswerable"')
    document = row.get("article")
    return Question(
        text,
        tuple(answers),
        bool(row.get("both")),
        str(document) if document is not None else None,
        related=kind == "related-unanswerable",
    )


def evaluate(corpus: Corpus, questions: list[Question], per_document: bool = False) -> dict[str, Tally]:
    """Each system's tally, StoryBot's first."""
    tallies = {"StoryBot": Tally(), "plain BM25": Tally()}
    for documents, asked in stories(corpus, questions, per_document):
        systems: dict[str, System] = {
            "StoryBot": storybot(Index.build(Corpus(documents))),
            "plain BM25": PlainBM25(documents),
        }
        for name, system in systems.items():
            for question in asked:
                start = time.perf_counter()
                reply = system(question.text)
                tallies[name].record(question, reply, time.perf_counter() - start)
    return tallies


def stories(
    corpus: Corpus, questions: list[Question], per_document: bool
) -> list[tuple[tuple[Document, ...], list[Question]]]:
    """The stories to ask and what to ask each. With per_document, every document is a story of its own,
    asked its own questions and a sample of the others', which it must decline."""
    if not per_document:
        return [(corpus.documents, questions)]
    names = {document.doc_id: {document.title, Path(document.doc_id).stem} for document in corpus.documents}
    answerable = [q for q in questions if not q.off_topic]
    if any(q.document is None for q in answerable):
        raise EvaluationError('one story per document needs each answerable question\'s "article"')
    unmatched = {q.document for q in answerable} - set().union(*names.values())
    if unmatched:
        raise EvaluationError(f"no document is named {sorted(map(str, unmatched))[0]!r}, a question's article")
    stories: list[tuple[tuple[Document, ...], list[Question]]] = []
    for document in corpus.documents:
        own = [q for q in answerable if q.document in names[document.doc_id]]
        others = [replace(q, answers=()) for q in answerable if q.document not in names[document.doc_id]]
        off_topic = [q for q in questions if q.off_topic]
        stories.append(((document,), own + others[::OFF_TOPIC_STRIDE] + off_topic))
    return stories


def _naive_words(text: str) -> list[str]:
    return _NAIVE_WORD.findall(text.lower())


def holds(quote: str, answer_text: str) -> bool:
    return _normal(answer_text) in _normal(quote)


def _normal(text: str) -> str:
    return " ".join(text.translate(_QUOTES).split()).lower()
