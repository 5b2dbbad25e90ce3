"""Reading a question: what a person typed, cleaned, and what kind of answer it asks for."""

import html
import re
import unicodedata

from retrieval.analysis import words

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ufffd]")

# What kind of answer a question asks for, and how a sentence that gives one reads.
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
ANSWER_KINDS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (
        re.compile(r"\b(?:why|reasons?|cause[sd]?|purpose)\b", re.IGNORECASE),
        re.compile(
            r"\b(?:because|due to|owing to|thanks to|as a result|in order to|so that|so as to|reasons?"
            r"|caused?|to help|aimed at|making|led to|since)\b",
            re.IGNORECASE,
        ),
    ),
    (
        re.compile(r"\b(?:when|what (?:year|month|day|date|time))\b", re.IGNORECASE),
        re.compile(
            rf"\b(?:{_MONTHS}|{_DAYS}|\d{{3,4}}s?|yesterday|today|tomorrow|ago|early|late|century)\b", re.IGNORECASE
        ),
    ),
    (
        re.compile(r"\bhow (?:many|much|fast|far|long|old|big|large|heavy|often|slow)\b", re.IGNORECASE),
        re.compile(
            r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundreds?|thousands?|millions?)\b",
            re.IGNORECASE,
        ),
    ),
)


def answer_cues(question: str) -> list[re.Pattern[str]]:
    """Patterns of the sentences that give the kinds of answer the question asks for."""
    return [gives for asks, gives in ANSWER_KINDS if asks.search(question)]


# Greetings and courtesies are said to the bot, not asked of the story.
_COURTESIES = frozenset("hey hi hello hiya ok okay please pls plz thanks thank thx cheers".split())


def question_words(question: str) -> list[str]:
    """The words a question asks with, greetings and courtesies left out."""
    return [word for word in words(question) if word not in _COURTESIES]


def clean_question(text: str) -> str:
    """The question as a person meant it: terminal escapes, markup, control and invisible characters gone, one line."""
    text = html.unescape(_TAG.sub(" ", _ANSI_ESCAPE.sub("", text)))
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    return " ".join(text.split())
