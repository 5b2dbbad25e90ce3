"""Words people type in a chat, read as the words a story would use.

Spelling variants and inflections are left to the stemmer, the respeller and the meaning model (see
retrieval/index.py), countries' names to retrieval/countries.py; what none of them can know is here:
chat filler that asks nothing of the story, chat spellings, and the short forms of country names,
which share no letters or meaning-vector with the names. Small on purpose, and each entry is tested.
"""

from dataclasses import dataclass
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from retrieval.analysis import STOP_WORDS, fold, words
from retrieval.countries import Phrase, other_names
from retrieval.english import is_english

_PUNCTUATION = ",.;:!?\"'()[]…“”‘’"

# Said to the bot or to fill a sentence, not asked of the story.
FILLER = frozenset(
    """
hey hi hello hiya yo ok okay please pls plz thanks thank thx ty cheers lol lmao omg btw tbh idk
gonna wanna gotta kinda sorta ya yeah yep nah u ur r bot guy guys dude stuff actually basically
literally tell know explain wondering curious
""".split()
)

# Chat spellings of ordinary words, written out; a respeller cannot tell "ppl" is "people".
CHAT_SPELLINGS = {
    "ppl": "people",
    "wat": "what",
    "wht": "what",
    "govt": "government",
    "gov": "government",
    "b4": "before",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "abt": "about",
    "tho": "though",
    "thru": "through",
    "msg": "message",
    "intl": "international",
    "ammo": "ammunition",
    "nuke": "nuclear weapon",
    "nukes": "nuclear weapons",
    "intel": "intelligence",
    "info": "information",
    "prez": "president",
    "convo": "conversation",
    "pic": "picture",
    "pics": "pictures",
}

# Contractions typed without their apostrophe ("wasnt"): read as written with it, they ask nothing.
CHAT_SPELLINGS |= {
    contraction.replace("'", ""): contraction
    for contraction in """
don't didn't doesn't isn't aren't wasn't weren't hasn't haven't hadn't won't wouldn't shouldn't couldn't
can't i'm i've you're you've they're they've we've what's who's where's how's that's there's he's she's
""".split()
}

# Short and colloquial names of countries, with the full names news stories use ("America" is kept too:
# a story may mean the continent).
SHORT_FORMS = {
    "nk": "north korea",
    "dprk": "north korea",
    "rok": "south korea",
    "usa": "united states",
    "yanks": "united states",
    "yank": "united states",
    "america": "united states",
    "uk": "united kingdom",
    "britain": "united kingdom",
    "prc": "china",
    "ussr": "soviet union",
}


# A word no list of English knows, this close to a long stop word, is that stop word misspelt ("befor").
_MISSPELT_STOP_WORD_EDITS = 1
_LONG_STOP_WORDS = sorted(word for word in STOP_WORDS if len(word) >= 5)


@dataclass(frozen=True)
class QuestionWord:
    """A word of a question, and other ways a story may write what it names ("seoul": "south korea")."""

    text: str
    also: tuple[Phrase, ...] = ()


def without_filler(text: str) -> str:
    """The text with its filler words left out and chat spellings written out, as the meaning model should read it."""
    kept = ((token, fold(token).strip(_PUNCTUATION)) for token in text.split())
    return " ".join(CHAT_SPELLINGS.get(word, token) for token, word in kept if word not in FILLER)


def plain_words(typed: list[str]) -> list[QuestionWord]:
    """Folded question words with filler dropped, chat spellings written out, and countries' other names."""
    written = (word for typed_word in typed for word in words(CHAT_SPELLINGS.get(typed_word, typed_word)))
    return _with_other_names([word for word in written if word not in FILLER and not _misspelt_stop_word(word)])


def _misspelt_stop_word(word: str) -> bool:
    if len(word) < 5 or is_english(word):
        return False
    near = process.extractOne(
        word, _LONG_STOP_WORDS, scorer=DamerauLevenshtein.distance, score_cutoff=_MISSPELT_STOP_WORD_EDITS
    )
    return near is not None


@cache
def _names() -> dict[Phrase, tuple[Phrase, ...]]:
    return other_names() | {(short,): (tuple(full.split()),) for short, full in SHORT_FORMS.items()}


def _with_other_names(plain: list[str]) -> list[QuestionWord]:
    """The words, the last of each phrase that names a country ("north korean") carrying another name for it."""
    names = _names()
    read: list[QuestionWord] = []
    start = 0
    while start < len(plain):
        for length in (3, 2, 1):
            phrase = tuple(plain[start : start + length])
            singular = (*phrase[:-1], phrase[-1].removesuffix("s"))  # "the russians"
            other = names.get(phrase) or names.get(singular)
            if len(phrase) == length and other:
                read += [QuestionWord(word) for word in phrase[:-1]] + [QuestionWord(phrase[-1], other)]
                start += length
                break
        else:
            read.append(QuestionWord(plain[start]))
            start += 1
    return read
