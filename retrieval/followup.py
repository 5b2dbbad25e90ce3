"""Reading a question in the light of a conversation: "how heavy is it?" after a question about a locomotive.

A message leans on the turns before it when it points back at them (a pronoun or demonstrative, "and X?",
"what about X?", "says who?") or has at most one word of its own to search for ("why?", "where exactly?"). Any
other message is answered exactly as if asked alone, so a change of subject never drags the old one along, and
so is one that names something the story does not have (an off-topic question stays off the topic).

A message that leans is searched for with what it leans on in front of it, as a lead-up (see `lead_up`): the
rarest words of the last question the story had something to say about (its subject), and, when it asks who said
something or what came next ("who claimed this?", "when was it announced?", "and before that?"), the rarest words of
the sentence quoted in reply, which is where such questions are answered. So a follow-up costs one `answer()`, of a
few more words, instead of the one the same question costs alone.

The rules and weights (`Reading`) were fitted on the dev conversations and checked on synthetic follow-ups built
from SQuAD: benchmarks/followup_fit.py.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from retrieval.analysis import fold
from retrieval.answer import MAX_QUESTION_CHARS, POLICY, Answer, Outcome, Policy, Quote, answer
from retrieval.english import is_english, surprisal
from retrieval.index import Index
from retrieval.question import answer_cues, clean_question, question_words
from retrieval.vocabulary import FILLER


@dataclass(frozen=True, slots=True)  # a bot keeps a few of these for every chat
class Turn:
    """One question of a conversation, with what of its reply a follow-up reads."""

    question: str  # the question as it was understood (already resolved, if it leaned on earlier turns)
    outcome: Outcome  # of the reply
    quote: Quote | None  # the reply's best quote: where "says who?" is answered

    @classmethod
    def of(cls, question: str, reply: Answer) -> "Turn":
        return cls(question, reply.outcome, reply.quotes[0] if reply.quotes else None)


@dataclass(frozen=True)
class Reading:
    """How a follow-up leans on what came before (benchmarks/followup_fit.py fits them)."""

    # Of a context word, beside one of the question's own, in how sure the answer is (in ranking every word counts
    # by its idf alone, so there the number of context words is what weighs: the two counts below).
    context_weight: float = 0.25
    # The subject: at most this many words of the earlier question, the rarest, for a question with at most one
    # word of its own ("how old is she?")...
    subject_words: int = 3
    # ...and for one with more, whose own words should pick the sentence ("what did its crew do next?").
    subject_words_beside_own: int = 2
    # A question with at most this many words of its own leans on what came before, pointer or not.
    own_words: int = 1
    # The rarest words of the sentence quoted last, for a question about who said it or what came next.
    quote_words: int = 4
    # In ranking a follow-up's sentences, their paragraph's BM25 score (as Policy.passage_weight).
    passage_weight: float = 0.0
    # A name of the question's own that the story does not have makes it a new subject, read alone.
    foreign_names: bool = True


READING = Reading()

# A word no list of English knows is a name, or a typo: short ones are more often typos (chat spellings).
NAME_LENGTH = 5

_SAYING_WORDS = "said|say|says|saying|told|tell|telling|reported|report|reports|announced|claimed|confirmed|stated"
_SAYING = rf"(?:{_SAYING_WORDS})"
# Words that point back at something said before.
_POINTERS = frozenset("he she it they him her them his hers its their theirs that this these those there then".split())
# "this morning", "these days": the time the speaker lives in, not something said before.
_NOW = re.compile(r"\b(?:this|these)\s+(?:week|weekend|year|month|morning|afternoon|evening|season|days?)\b")
# "are there other ...", "there were": there as the subject of being, pointing nowhere.
_EXISTENTIAL = re.compile(
    r"\b(?:is|are|was|were|be|been)\s+there\b|\bthere(?:\s+(?:is|are|was|were|be|been)\b|'s\b|'re\b)"
)
# "is it true that ...", "it is said that": it standing in for what follows, pointing nowhere.
_DUMMY_IT = re.compile(
    r"\bit(?:\s+(?:is|was|seems|seemed)|'s)\s+(?:\w+\s+){0,2}(?:to|that)\b|\b(?:is|was)\s+it\s+(?:\w+\s+){0,2}(?:to|that)\b"
)
# "said that he ...": that opening what was said, pointing nowhere ("who said that?" does point back).
_SAID_THAT = re.compile(rf"\b(?:{_SAYING_WORDS}|believes?|believed|thinks?|thought|so|such)\s+that\s+(?=\w)")
# "so" points back after a word of saying ("who thinks so?"); elsewhere it means "very" or "therefore".
_SO_POINTS = re.compile(r"\b(?:said|says|say|told|thinks?|think|believes?|claims?)\s+so\b")
# A message that carries on from the last one: "and the navy?", "what about the mayor?", "so is she ...".
_CARRIES_ON = re.compile(r"^(?:and|but|so|also|then|or)\b|^(?:what|how)\s+about\b")
# Asking who said it, or what came next: answered beside the sentence quoted last.
_ASKS_SOURCE = re.compile(
    rf"\b(?:who|whom|which)\b.*\b{_SAYING}\b(?:\W+\w+){{0,2}}\W*$"
    rf"|\b(?:when|where|why|how)\b.*\b{_SAYING}\s+(?:that|this|so|it)\b"
    r"|\bsays who\b|\bsources?\b|\baccording to (?:who|whom)\b"
    r"|\b(?:after|before)\s+(?:that|this|it)\b|\bwhat (?:next|then|else)\b|\bthen what\b"
)
# A question, not a "thanks!" or an "ok": with few words of its own, only a question leans on the ones before.
_ASKS = re.compile(r"\b(?:what|whats|who|whom|whose|when|where|why|how|which)\b|\?\s*$")
# What `lead_up` needs after the lead-up to read it as one.
_ASKING = re.compile(
    r"^(?:what|whats|who|whom|whose|when|where|why|how|which|did|does|do|is|are|was|were|can|could|will|would)\b"
)
# How the understood question shows the sentence it was read beside; what follows is not its subject.
_ABOUT = " (about: "
_QUOTE_MARK = "the sentence “"
_WORD = re.compile(r"\w+")
# Of the sentence quoted last, the reading shows its first words.
SHOWN_QUOTE_WORDS = 8


def read_in_context(
    index: Index, question: str, history: Sequence[Turn], policy: Policy = POLICY, reading: Reading = READING
) -> tuple[Answer, str | None]:
    """The answer to `question` in the light of `history` (oldest first, a handful of turns at most),
    and the question as understood when it leaned on the history: None when it was read alone."""
    asked = clean_question(question)
    earlier = _subject_turn(history)
    if earlier is None or len(asked) > MAX_QUESTION_CHARS:
        return answer(index, question, policy), None
    own = {word.text for word in question_words(asked)}
    leans = _points_back(asked) or (len(own) <= reading.own_words and bool(_ASKS.search(asked.lower())))
    if not leans or (reading.foreign_names and any(_foreign(index, word) for word in own)):
        return answer(index, question, policy), None
    count = reading.subject_words if len(own) <= 1 else reading.subject_words_beside_own
    subject = _subject(earlier.question, own, count)
    quoted = []
    if earlier.quote and _ASKS_SOURCE.search(asked.lower()):
        quoted = _rarest(_telling(earlier.quote.text, own | set(subject)), reading.quote_words)
    if not subject and not quoted:
        return answer(index, question, policy), None
    weighed = replace(policy, lead_up_weight=reading.context_weight, passage_weight=reading.passage_weight)
    resolved = answer(index, _query([*subject, *quoted], asked), weighed)
    return replace(resolved, question=asked), _understood(asked, earlier, subject, bool(quoted))


def _subject_turn(history: Sequence[Turn]) -> Turn | None:
    """The last turn the story had something to say about: one it declined was off the subject."""
    return next((turn for turn in reversed(history) if turn.outcome is not Outcome.DECLINED), None)


def _points_back(question: str) -> bool:
    text = question.lower().replace("’", "'")
    if _CARRIES_ON.search(text) or _SO_POINTS.search(text):
        return True
    for pointing_nowhere in (_NOW, _EXISTENTIAL, _DUMMY_IT, _SAID_THAT):
        text = pointing_nowhere.sub(" ", text)
    return any(token in _POINTERS for token in _WORD.findall(text))


def _foreign(index: Index, word: str) -> bool:
    """Whether the word is a name (no list of English knows it) that the story does not have, however spelt."""
    return len(word) >= NAME_LENGTH and not is_english(word) and not _held(index, word)


def _held(index: Index, word: str) -> bool:
    """Whether the story has the word, however spelt: one it lacks cannot say what the subject was."""
    return index.knows(index.term_for(word))


def _telling(text: str, leave_out: set[str]) -> list[str]:
    """The words of `text` a question asks with, in order, once each, but those in `leave_out` and those that ask
    for a kind of answer (a "reason" in the context must not make the question a "why")."""
    kept: dict[str, None] = {}
    for word in question_words(text):
        if word.text not in leave_out and word.text not in FILLER and not answer_cues(word.text):
            kept[word.text] = None
    return list(kept)


def _rarest(words: list[str], count: int) -> list[str]:
    """The `count` words that tell most, in their order."""
    chosen = set(sorted(words, key=lambda word: -surprisal(word))[:count])
    return [word for word in words if word in chosen]


def _query(context: list[str], question: str) -> str:
    """The context as a lead-up to the question, so that each of its words weighs `context_weight` of one."""
    asking = question if _ASKING.match(question.lower()) else f"what {question}"
    return f"{' '.join(context)} - {asking}"


def _understood(question: str, earlier: Turn, subject: list[str], quoted: bool) -> str:
    """The question with what it leans on, in the conversation's own words: "how heavy is it? (about: locomotive)"."""
    parts = []
    if subject:
        parts.append(_as_written(_subject_part(earlier.question), set(subject)) or " ".join(subject))
    if quoted and earlier.quote is not None:
        words = earlier.quote.text.split()
        shown = " ".join(words[:SHOWN_QUOTE_WORDS]).lstrip("“‘\"'") + (" …" if len(words) > SHOWN_QUOTE_WORDS else "")
        parts.append(f"{_QUOTE_MARK}{shown}”")
    return f"{question}{_ABOUT}{'; '.join(part for part in parts if part)})"


def _subject(understood: str, own: set[str], count: int) -> list[str]:
    """The subject of an earlier question, as understood: its `count` rarest words but the question's own."""
    return _rarest(_telling(_subject_part(understood), own), count)


def _subject_part(understood: str) -> str:
    return understood.split(_QUOTE_MARK, 1)[0]


def _as_written(text: str, chosen: set[str]) -> str:
    """The chosen words as `text` writes them, in its order, once each."""
    kept = []
    for match in _WORD.finditer(text):
        folded = fold(match.group())
        if folded in chosen:
            kept.append(match.group())
            chosen = chosen - {folded}
    return " ".join(kept)
