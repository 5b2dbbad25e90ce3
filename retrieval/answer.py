"""From a question to an answer: the best sentences of the story, verbatim, with where they stand."""

import re
from dataclasses import dataclass, field, replace
from enum import Enum

from retrieval.english import surprisal
from retrieval.index import Index, Passage
from retrieval.question import answer_cues, clean_question, question_words

MAX_QUOTES = 3
MAX_QUESTION_CHARS = 1000

# How much a sentence's paragraph counts beside the sentence itself.
PASSAGE_WEIGHT = 0.5
# Share of the question's weight (squared surprisal in English, so one rare word outweighs several
# common ones) that some candidate's paragraph must hold for an answer. Chosen by cross-validation
# across SQuAD articles, to decline 96% of the questions asked of the wrong article.
MIN_COVERAGE = 0.55
# A further quote must score at least this share of the best one.
MIN_RELATIVE_SCORE = 0.5
# Passages whose sentences are considered, best first.
CANDIDATE_PASSAGES = 10
# Two quotes sharing this share of their terms say the same thing.
SAME_THING = 0.6
# The bonus for giving the kind of answer asked for, as a share of the question's mean idf.
ANSWER_KIND_BONUS = 1.0
# A sentence that gives the kind of answer asked for ("why": a cause) holds one more part of the
# question, weighing this share of its average term.
ANSWER_KIND_WEIGHT = 0.5

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
    terms: tuple[str, ...] = field(default=())  # the question's terms, as matched against the story
    coverage: float = 0.0  # the most of the question's weight one passage holds

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


def answer(index: Index, question: str, min_coverage: float = MIN_COVERAGE) -> Answer:
    """The best quotes for a question, or why there are none; min_coverage is there to be calibrated."""
    question = clean_question(question)
    if len(question) > MAX_QUESTION_CHARS:
        return Answer(question[:MAX_QUESTION_CHARS], Outcome.TOO_LONG)
    weights: dict[str, float] = {}
    for word in question_words(question):
        term = index.term_for(word)
        weights[term] = max(weights.get(term, 0.0), surprisal(word) ** 2)
    terms = tuple(weights)
    if not terms:
        return Answer(question, Outcome.NO_QUESTION)
    candidates = _candidates(index, question, weights)
    coverage = max((c.coverage for c in candidates), default=0.0)
    if not candidates or coverage < min_coverage:
        return Answer(question, Outcome.NOT_IN_STORY, terms=terms, coverage=coverage)
    quotes = tuple(
        Quote(
            text=c.passage.quote(c.first, c.last),
            doc_id=c.passage.source.doc_id,
            title=c.passage.source.title,
            paragraph=c.passage.paragraph,
            score=round(c.score, 4),
        )
        for c in _select(candidates)
    )
    return Answer(question, Outcome.ANSWERED, quotes, terms, coverage)


def _candidates(index: Index, question: str, weights: dict[str, float]) -> list[_Candidate]:
    """Every sentence of the best passages that shares a term with the question, best first.

    `weights` says how much each question term tells; the share of it a passage holds is its coverage.
    """
    terms = list(weights)
    idf = {term: index.idf(term) for term in terms}
    kind_bonus = ANSWER_KIND_BONUS * sum(idf.values()) / len(terms)
    total_weight = sum(weights.values())
    kind_weight = ANSWER_KIND_WEIGHT * total_weight / len(terms)
    cues = answer_cues(question)
    candidates = []
    for passage, passage_score in index.top_passages(terms, CANDIDATE_PASSAGES):
        held = sum(weights[t] for t in passage.terms.intersection(terms))
        for position, sentence in enumerate(passage.sentences):
            if not sentence.terms.intersection(terms):
                continue
            first = position - 1 if position > 0 and _leans_back(passage, position) else position
            quoted = frozenset().union(*(s.terms for s in passage.sentences[first : position + 1]))
            score = sum(idf[t] for t in quoted.intersection(terms)) + PASSAGE_WEIGHT * passage_score
            gives_kind = any(cue.search(passage.quote(first, position)) for cue in cues)
            score += kind_bonus if gives_kind else 0.0
            extra = kind_weight if gives_kind else 0.0
            coverage = (held + extra) / (total_weight + extra)
            candidates.append(_Candidate(passage, first, position, quoted, score, coverage))
    return sorted(candidates, key=lambda c: -c.score)


def _leans_back(passage: Passage, position: int) -> bool:
    sentence = passage.sentences[position]
    text = passage.text[sentence.start : sentence.end].lstrip(" \"'“‘(")
    return bool(_LEANS_BACK.match(text)) or len(text.split()) < 5


def _select(candidates: list[_Candidate]) -> list[_Candidate]:
    """Up to MAX_QUOTES good quotes, no two saying the same thing, the best of each document first."""
    best = candidates[0]
    floor = best.score - (1 - MIN_RELATIVE_SCORE) * abs(best.score)  # Okapi scores can be negative in tiny corpora
    good = [c for c in candidates[1:] if c.score >= floor]
    chosen = [_with_next_sentence(best)]
    seen_documents = {best.passage.source.doc_id}
    for pass_ in ("one per document", "the rest"):
        for candidate in good:
            if len(chosen) == MAX_QUOTES:
                break
            doc_id = candidate.passage.source.doc_id
            if pass_ == "one per document" and doc_id in seen_documents:
                continue
            if candidate in chosen or any(_same_thing(candidate, other) for other in chosen):
                continue
            chosen.append(candidate)
            seen_documents.add(doc_id)
    return sorted(chosen, key=lambda c: -c.score)


def _with_next_sentence(candidate: _Candidate) -> _Candidate:
    """The best sentence with the one after it: a question built on a sentence's words is often answered next."""
    following = candidate.last + 1
    if candidate.first < candidate.last or following == len(candidate.passage.sentences):
        return candidate
    terms = candidate.terms | candidate.passage.sentences[following].terms
    return replace(candidate, last=following, terms=terms)


def _same_thing(a: _Candidate, b: _Candidate) -> bool:
    if a.passage.number == b.passage.number and a.first <= b.last and b.first <= a.last:
        return True
    smaller = min(len(a.terms), len(b.terms)) or 1
    return len(a.terms & b.terms) / smaller >= SAME_THING
