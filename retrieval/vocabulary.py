"""Words people type in a chat, read as the words a story would use.

Spelling variants and inflections are left to the stemmer, the respeller and the meaning model (see
retrieval/index.py); what none of them can know is here: chat filler that asks nothing of the story,
and the short forms of country names, which share no letters or meaning-vector with the names.
Small on purpose, and each entry is tested.
"""

from retrieval.analysis import fold

_PUNCTUATION = ",.;:!?\"'()[]…“”‘’"

# Said to the bot or to fill a sentence, not asked of the story.
FILLER = frozenset(
    """
hey hi hello hiya yo ok okay please pls plz thanks thank thx ty cheers lol lmao omg btw tbh idk
gonna wanna gotta kinda sorta ya yeah yep nah u ur r bot guy guys dude stuff actually basically
literally tell know
""".split()
)

# Short and colloquial names of countries, as the full names news stories use.
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


def without_filler(text: str) -> str:
    """The text with its filler words left out, as the meaning model should read it."""
    return " ".join(token for token in text.split() if fold(token).strip(_PUNCTUATION) not in FILLER)


def plain_words(words: list[str]) -> list[str]:
    """Folded question words with filler dropped and short forms written out."""
    return [part for word in words if word not in FILLER for part in SHORT_FORMS.get(word, word).split()]
