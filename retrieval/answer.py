"""From a question to an answer: the best sentences of the story, verbatim, with where they stand."""

import re
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from retrieval.analysis import analyze
from retrieval.index import Index, Passage
from retrieval.question import answer_cues, clean_question

MAX_QUOTES = 3
MAX_QUESTION_CHARS = 1000

# How much a sentence's paragraph counts beside the sentence itself.
PASSAGE_WEIGHT = 0.5
# Share of the question's idf mass that some candidate's paragraph must cover for an answer.
MIN_COVERAGE = 0.25
# A further quote must score at least this share of the best one.
MIN_RELATIVE_SCORE = 0.5
# Passages whose sentences are considered, best first.
CANDIDATE_PASSAGES = 10
# Two quotes sharing this share of their terms say the same thing.
SAME_THING = 0.6
# The bonus for giving the kind of answer asked for, as a share of the question's mean idf.
ANSWER_KIND_BONUS = 1.0

# A sentence opening with one of these leans on the one before it.
_LEANS_BACK = re.compile(
    r"^(?:it|its|this|that|these|those|they|their|them|he|his|him|she|her|there|such|however"
    r"|but|also|so|thus|then|meanwhile|instead|still|yet|and)\b",
    re.IGNORECASE,
)


class Outcome(Enum):
    ANSWERED = "answered"
    NO_QUESTION = "no_question"
    TOO_LONG = "too_long"
    NOT_IN_STORY = "not_in_story"


@dataclass(frozen=True)
class Quote:
    text: str
    doc_id: str
    title: str
    paragraph: int
    score: float


@dataclass(frozen=True)
class Answer:
    question: str
    outcome: Outcome
    quotes: tuple[Quote, ...] = field(default=())

    @property
    def answered(self) -> bool:
        return self.outcome is Outcome.ANSWERED


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    first: int
    last: int
    terms: frozenset[str]
    score: float
    coverage: float


def answer(index: Index, question: str) -> Answer:
    question = clean_question(question)
    if len(question) > MAX_QUESTION_CHARS:
        return Answer(question[:MAX_QUESTION_CHARS], Outcome.TOO_LONG)
    terms = list(dict.fromkeys(analyze(question)))
    if not terms:
        return Answer(question, Outcome.NO_QUESTION)
    candidates = _candidates(index, question, terms)
    if max((c.coverage for c in candidates), default=0.0) < MIN_COVERAGE:
        return Answer(question, Outcome.NOT_IN_STORY)
    quotes = tuple(
        Quote(
            text=c.passage.quote(c.first, c.last),
            doc_id=c.passage.document.doc_id,
            title=c.passage.document.title,
            paragraph=c.passage.paragraph,
            score=round(c.score, 4),
        )
        for c in _select(candidates)
    )
    return Answer(question, Outcome.ANSWERED, quotes)


def _candidates(index: Index, question: str, terms: list[str]) -> list[_Candidate]:
    """Every sentence of the best passages that shares a term with the question, best first."""
    passage_scores = index.scores(terms)
    idf = {term: index.idf(term) for term in terms}
    total_idf = sum(idf.values())
    kind_bonus = ANSWER_KIND_BONUS * total_idf / len(terms)
    cues = answer_cues(question)
    # Passages sharing no term score exactly 0; Okapi idf can make a matching one score below that.
    matching = np.flatnonzero(passage_scores)
    best_passages = matching[np.argsort(-passage_scores[matching], kind="stable")][:CANDIDATE_PASSAGES]
    candidates = []
    for i in best_passages:
        passage = index.passages[i]
        coverage = sum(idf[t] for t in set(passage.terms).intersection(terms)) / total_idf
        for position, sentence in enumerate(passage.sentences):
            if not sentence.terms.intersection(terms):
                continue
            first = position - 1 if position > 0 and _leans_back(passage, position) else position
            quoted = frozenset().union(*(s.terms for s in passage.sentences[first : position + 1]))
            score = sum(idf[t] for t in quoted.intersection(terms)) + PASSAGE_WEIGHT * passage_scores[i]
            if any(cue.search(passage.quote(first, position)) for cue in cues):
                score += kind_bonus
            candidates.append(_Candidate(passage, first, position, quoted, score, coverage))
    return sorted(candidates, key=lambda c: -c.score)


def _leans_back(passage: Passage, position: int) -> bool:
    sentence = passage.sentences[position]
    text = passage.text[sentence.start : sentence.end].lstrip(" \"'“‘(")
    return bool(_LEANS_BACK.match(text)) or len(text.split()) < 5


def _select(candidates: list[_Candidate]) -> list[_Candidate]:
    """Up to MAX_QUOTES good quotes, no two saying the same thing, the best of each document first."""
    best = candidates[0].score
    floor = best - (1 - MIN_RELATIVE_SCORE) * abs(best)  # Okapi scores can be negative in tiny corpora
    good = [c for c in candidates if c.score >= floor]
    chosen: list[_Candidate] = []
    seen_documents: set[str] = set()
    for pass_ in ("one per document", "the rest"):
        for candidate in good:
            if len(chosen) == MAX_QUOTES:
                break
            doc_id = candidate.passage.document.doc_id
            if pass_ == "one per document" and doc_id in seen_documents:
                continue
            if candidate in chosen or any(_same_thing(candidate, other) for other in chosen):
                continue
            chosen.append(candidate)
            seen_documents.add(doc_id)
    return sorted(chosen, key=lambda c: -c.score)


def _same_thing(a: _Candidate, b: _Candidate) -> bool:
    if a.passage is b.passage and a.first <= b.last and b.first <= a.last:
        return True
    smaller = min(len(a.terms), len(b.terms)) or 1
    return len(a.terms & b.terms) / smaller >= SAME_THING
