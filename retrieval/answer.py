"""From a question to an answer: the best sentences of the story, verbatim, with where they stand."""

import math
import re
from dataclasses import dataclass, field, replace
from enum import Enum

from retrieval.analysis import matched_spans, stem
from retrieval.english import surprisal
from retrieval.index import Index, Passage
from retrieval.question import answer_cues, clean_question, lead_up, question_words
from retrieval.vocabulary import without_filler

MAX_QUOTES = 3
MAX_QUESTION_CHARS = 1000

# A further quote of a confident answer must score at least this share of the best one.
MIN_RELATIVE_SCORE = 0.6
# Further quotes stop short of this many characters in all: a reply is read on a phone.
QUOTED_CHARACTERS = 750
# Passages whose sentences are considered, best first.
CANDIDATE_PASSAGES = 12
# Passages nearest the question in meaning, considered beside them where the index can search by meaning.
MEANING_PASSAGES = 5
# Where it cannot (an archive too large to embed whole), the sentences best by words that meaning reranks.
MEANING_RERANKED = 16
# Two quotes sharing this share of their terms say the same thing.
SAME_THING = 0.6
# A sentence that gives the kind of answer asked for ("why": a cause) holds one more part of the
# question, weighing this share of its average term.
ANSWER_KIND_WEIGHT = 0.5

# A sentence opening with one of these leans on the one before it.
_LEANS_BACK = re.compile(
    r"^(?:it|its|this|that|these|those|they|their|them|he|his|him|she|her|there|such|however"
    r"|but|also|so|thus|then|meanwhile|instead|still|yet|and)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Policy:
    """How words and meaning are weighed, and where the three outcomes part. Fitted by cross-validation
    (benchmarks/calibrate.py; the folds and figures are in the README), not chosen by hand."""

    meaning_weight: float = 0.5  # in ranking: a sentence's cosine with the question beside its share of the words
    passage_weight: float = 0.0  # in ranking: its paragraph's BM25 score, as a share of the best one
    kind_bonus: float = 1.0  # in ranking: for giving the kind of answer asked for, in average question terms
    similarity_weight: float = 1.5  # in relatedness: the best cosine beside the best coverage
    answer_at: float = 1.166  # relatedness from which the quotes answer with confidence
    kind_missing_penalty: float = 0.3  # taken from relatedness when no quote gives the kind of answer asked for
    # Whether the story is related at all is told apart from whether its quotes answer: there a word weighs its
    # English surprisal² times its specificity in the story to this power, so that the story's setting counts little.
    specificity_power: float = 0.5
    decline_similarity_weight: float = 4.0  # in relatedness at all: the best cosine beside that coverage
    closest_at: float = 1.152  # relatedness at all below which nothing in the story is related
    lead_up_weight: float = 0.5  # of a word in what leads up to the question ("for my essay - what ...")


POLICY = Policy()


class Outcome(Enum):
    ANSWERED = "answered"  # the quotes answer the question
    CLOSEST = "closest"  # the story may not answer exactly this; the quotes are the nearest it comes
    DECLINED = "declined"  # nothing in the story is related


class Problem(Enum):
    """Why a message was not searched for at all."""

    NO_QUESTION = "no_question"
    TOO_LONG = "too_long"


# Slots: a chat's memory keeps its last few answers, and a bot serves many chats.
@dataclass(frozen=True, slots=True, weakref_slot=True)
class Quote:
    text: str
    doc_id: str
    title: str
    paragraph: int
    score: float
    matched: tuple[tuple[int, int], ...] = ()  # (start, end) in `text` of the words the question shares with it


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    outcome: Outcome
    quotes: tuple[Quote, ...] = field(default=())
    terms: tuple[str, ...] = field(default=())  # the question's terms, as matched against the story
    coverage: float = 0.0  # the most of the question's weight one passage holds
    similarity: float = 0.0  # the best cosine of the question with a candidate sentence
    specific_coverage: float = 0.0  # the same, each word weighed by its specificity too: what declining looks at
    kind_missing: bool = False  # the question asks for a kind of answer ("how fast") no quote gives
    problem: Problem | None = None

    @property
    def answered(self) -> bool:
        return self.outcome is Outcome.ANSWERED


# The ways a story may write one word of the question, each a tuple of terms ("seoul"; "south korea").
_Group = frozenset[tuple[str, ...]]


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    first: int
    last: int
    terms: frozenset[str]
    score: float
    coverage: float
    specific_coverage: float
    similarity: float
    gives_kind: bool


def answer(index: Index, question: str, policy: Policy = POLICY) -> Answer:
    """The best quotes for a question and how sure they are, or why there are none."""
    question = clean_question(question)
    if len(question) > MAX_QUESTION_CHARS:
        return Answer(question[:MAX_QUESTION_CHARS], Outcome.DECLINED, problem=Problem.TOO_LONG)
    groups: dict[_Group, float] = {}
    specific: dict[_Group, float] = {}
    leading = {word.text for word in question_words(lead_up(question))}
    for word in question_words(question):
        # Other names are spelt right: their own stems.
        group = frozenset({(index.term_for(word.text),), *(tuple(map(stem, other)) for other in word.also)})
        weight = surprisal(word.text) ** 2 * (policy.lead_up_weight if word.text in leading else 1.0)
        groups[group] = max(groups.get(group, 0.0), weight)
        specific[group] = groups[group] * specificity(index, group) ** policy.specificity_power
    terms = tuple(dict.fromkeys(term for group in groups for reading in sorted(group) for term in reading))
    if not terms:
        return Answer(question, Outcome.DECLINED, problem=Problem.NO_QUESTION)
    cues = answer_cues(question)
    candidates = _candidates(index, question, groups, specific, cues, policy)
    if not candidates:
        return Answer(question, Outcome.DECLINED, terms=terms)
    coverage = max(c.coverage for c in candidates)
    held = max(c.specific_coverage for c in candidates)
    similarity = max(c.similarity for c in candidates)
    if held + policy.decline_similarity_weight * similarity < policy.closest_at:
        return Answer(question, Outcome.DECLINED, terms=terms, coverage=coverage, similarity=similarity,
                      specific_coverage=held)  # fmt: skip
    chosen = _select(candidates, MIN_RELATIVE_SCORE)
    kind_missing = bool(cues) and not any(c.gives_kind for c in chosen)
    relatedness = coverage + policy.similarity_weight * similarity
    relatedness -= policy.kind_missing_penalty if kind_missing else 0.0
    outcome = Outcome.ANSWERED if relatedness >= policy.answer_at else Outcome.CLOSEST
    if outcome is Outcome.CLOSEST:  # unsure which sentence answers: the nearest few, whatever their scores
        chosen = _select(candidates, 0.0)
    question_terms = frozenset(terms)
    quotes = tuple(
        Quote(
            text=(text := c.passage.quote(c.first, c.last)),
            doc_id=c.passage.source.doc_id,
            title=c.passage.source.title,
            paragraph=c.passage.paragraph,
            score=round(c.score, 4),
            matched=matched_spans(text, question_terms),
        )
        for c in chosen
    )
    return Answer(question, outcome, quotes, terms, coverage, similarity, held, kind_missing)


def specificity(index: Index, group: _Group) -> float:
    """How well a word of the question tells one passage of the story from another, from 1 (a word in one passage,
    or in none) down towards 0 (a word in every passage: the story's setting, which a question about anything
    else that happens there shares with it as well).

    It is the word's idf in the story as a share of the idf of a word found in one passage only. A word asked by
    several names ("moscow": also "russia") is held by a passage with any of them, so it is as common as its
    commonest name in the story.
    """
    known = [sum(map(index.idf, reading)) / len(reading) for reading in group if all(map(index.knows, reading))]
    if not known:
        return 1.0
    # Index.idf is Lucene's BM25 idf, log(1 + (N - n + 0.5) / (n + 0.5)), here for n = 1.
    in_one_passage = math.log(1 + (len(index) - 0.5) / 1.5)
    return min(1.0, min(known) / in_one_passage) if in_one_passage > 0 else 1.0


def _candidates(
    index: Index,
    question: str,
    groups: dict[_Group, float],
    specific: dict[_Group, float],
    cues: list[re.Pattern[str]],
    policy: Policy,
) -> list[_Candidate]:
    """Every sentence of the passages BM25 ranks best, scored by the question's words it holds and by how
    close it is in meaning, best first.

    `groups` says how much each word of the question tells; the share of it a passage holds is its coverage.
    `specific` says it again with each word weighed by its specificity in the story too.
    """
    terms = sorted({term for group in groups for reading in group for term in reading})
    idf = {group: max(sum(map(index.idf, reading)) / len(reading) for reading in group) for group in groups}
    question_idf = sum(idf.values())
    total_weight, total_specific = sum(groups.values()), sum(specific.values())
    kind_weight = ANSWER_KIND_WEIGHT * total_weight / len(groups)
    kind_specific = ANSWER_KIND_WEIGHT * total_specific / len(groups)
    question_vector = index.embed(without_filler(question))
    passages = index.top_passages(terms, CANDIDATE_PASSAGES)
    found = {passage.number for passage, _ in passages}
    nearest = index.nearest_passages(question_vector, MEANING_PASSAGES)
    passages += [(passage, 0.0) for passage in nearest if passage.number not in found]
    best_passage = max((abs(score) for _, score in passages), default=0.0) or 1.0
    searches_by_meaning = index.searches_by_meaning
    lexical = []
    for passage, passage_score in passages:
        holds = [group for group in groups if _holds(passage.terms, group)]
        held, held_specific = sum(groups[group] for group in holds), sum(specific[group] for group in holds)
        for position, sentence in enumerate(passage.sentences):
            if not searches_by_meaning and sentence.terms.isdisjoint(terms):
                continue  # an archive: meaning only reranks what the words found
            first = position - 1 if position > 0 and _leans_back(passage, position) else position
            quoted = frozenset().union(*(s.terms for s in passage.sentences[first : position + 1]))
            gives_kind = any(cue.search(passage.quote(first, position)) for cue in cues)
            # Each part a share: of the question's idf, of the best passage's score, of one average term.
            score = (
                sum(idf[group] for group in groups if _holds(quoted, group)) / question_idf
                + policy.passage_weight * passage_score / best_passage
                + (policy.kind_bonus / len(groups) if gives_kind else 0.0)
            )
            extra, extra_specific = (kind_weight, kind_specific) if gives_kind else (0.0, 0.0)
            coverage = (held + extra) / (total_weight + extra)
            specific_coverage = (held_specific + extra_specific) / ((total_specific + extra_specific) or 1.0)
            lexical.append(
                _Candidate(passage, first, position, quoted, score, coverage, specific_coverage, 0.0, gives_kind)
            )
    if not searches_by_meaning:
        lexical = sorted(lexical, key=lambda c: -c.score)[:MEANING_RERANKED]
    cosines = index.cosines(question_vector, [(c.passage, c.last) for c in lexical])
    candidates = [
        replace(c, score=c.score + policy.meaning_weight * cosine, similarity=cosine)
        for c, cosine in zip(lexical, cosines.tolist(), strict=True)
    ]
    return sorted(candidates, key=lambda c: -c.score)


def _holds(terms: frozenset[str], group: _Group) -> bool:
    return any(terms.issuperset(reading) for reading in group)


def _leans_back(passage: Passage, position: int) -> bool:
    sentence = passage.sentences[position]
    text = passage.text[sentence.start : sentence.end].lstrip(" \"'“‘(")
    return bool(_LEANS_BACK.match(text)) or len(text.split()) < 5


def _select(candidates: list[_Candidate], min_relative_score: float) -> list[_Candidate]:
    """Up to MAX_QUOTES good quotes, no two saying the same thing, the best of each document first."""
    best = candidates[0]
    floor = best.score - (1 - min_relative_score) * abs(best.score)  # Okapi scores can be negative in tiny corpora
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
            if sum(map(_length, chosen)) + _length(candidate) > QUOTED_CHARACTERS:
                continue
            chosen.append(candidate)
            seen_documents.add(doc_id)
    return sorted(chosen, key=lambda c: -c.score)


def _length(candidate: _Candidate) -> int:
    return len(candidate.passage.quote(candidate.first, candidate.last))


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
