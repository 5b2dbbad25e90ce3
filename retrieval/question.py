"""Reading a question: what a person typed, cleaned, and what kind of answer it asks for."""

import html
import re
import unicodedata

from retrieval.analysis import words
from retrieval.vocabulary import QuestionWord, plain_words

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ufffd]")

# What kind of answer a question asks for, and how a sentence that gives one reads.
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMBER = (
    r"(?:(?!(?:1[89]|20)\d\d\b)\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty"
    r"|hundreds?|thousands?|millions?|billions?|dozens?|several|a few)"
)
_SPEED = r"(?:km/h|kph|mph|km|kilomet(?:er|re)s?|miles?|knots)"
_DISTANCE = r"(?:km|kilomet(?:er|re)s?|miles?|met(?:er|re)s?|feet|foot|yards?)"
_DURATION = r"(?:seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?|decades?)"
_AMOUNT = r"(?:dollars?|euros?|pounds?|rubles?|roubles?|won|percent|per cent|tons?|tonnes?|barrels?)"


def _kind(asks: str, gives: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    return re.compile(asks, re.IGNORECASE), re.compile(gives, re.IGNORECASE)


ANSWER_KINDS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    _kind(
        r"\b(?:why|reasons?|cause[sd]?|purpose)\b",
        r"\b(?:because|due to|owing to|thanks to|as a result|in order to|so that|so as to|reasons?"
        r"|caused?|to help|aimed at|making|led to|since)\b",
    ),
    _kind(
        r"\b(?:when|what (?:year|month|day|date|time))\b",
        rf"\b(?:{_MONTHS}|{_DAYS}|\d{{3,4}}s?|yesterday|today|tomorrow|ago|early|late|century)\b",
    ),
    _kind(r"\b(?:how (?:fast|quick|quickly|slow|slowly)|speeds?)\b", rf"\b{_NUMBER}[\s-]*{_SPEED}(?!\w)"),
    _kind(r"\bhow (?:far|wide|tall|high|deep)\b", rf"\b{_NUMBER}[\s-]*{_DISTANCE}\b(?!\s*/)"),  # km/h is a speed
    _kind(r"\bhow long\b", rf"\b{_NUMBER}[\s-]*(?:{_DURATION}|{_DISTANCE})\b"),
    _kind(r"\bhow old\b", rf"\b{_NUMBER}[\s-]*years?\b|\baged? \d"),
    _kind(r"\bhow much\b", rf"[$€£¥]\s*\d|\b{_NUMBER}[\s-]*(?:{_AMOUNT}|%)"),
    _kind(r"\bhow many\b", rf"\b{_NUMBER}\b"),
    # "Who is X?": a sentence that says what X is ("Sergei Shoigu, the defense secretary of Russia").
    _kind(r"\bwho(?:'s|\s+(?:is|was|are|were))\b", r"\b[A-Z][\w'’-]+,\s+(?:the|a|an|who)\s"),
    # "Who said / confirmed it?", "says who?": a sentence that names its source.
    _kind(
        r"\bwho\s+(?:said|says|told|reported|confirmed|announced|claimed|stated|revealed|broke)\b|\bsays who\b"
        r"|\baccording to (?:who|whom)\b",
        r"\b(?:said|says|told|according to|reported|confirmed|announced|stated|citing)\b",
    ),
)


def answer_cues(question: str) -> list[re.Pattern[str]]:
    """Patterns of the sentences that give the kinds of answer the question asks for."""
    return [gives for asks, gives in ANSWER_KINDS if asks.search(question)]


# People in a chat often lead up to a question ("writing an essay on this - what ...", "my notes are a
# mess, who ..."): what comes before the last separator followed by a question word.
_ASKING = r"(?:what|whats|who|whom|whose|when|where|why|how|which|did|does|do|is|are|was|were|can|could|will|would)"
_LEAD_UP = re.compile(rf"^(.*[,;:–—-])\s+(?={_ASKING}\b)", re.IGNORECASE)


def lead_up(question: str) -> str:
    """The words that lead up to the question itself, if it has any."""
    match = _LEAD_UP.match(question)
    return match.group(1) if match else ""


def question_words(question: str) -> list[QuestionWord]:
    """The words a question asks with: greetings and chat filler left out, chat spellings written out, countries
    with their other names."""
    return plain_words(words(question))


def clean_question(text: str) -> str:
    """The question as a person meant it: terminal escapes, markup, control and invisible characters gone, one line."""
    text = html.unescape(_TAG.sub(" ", _ANSI_ESCAPE.sub("", text)))
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    return " ".join(text.split())
