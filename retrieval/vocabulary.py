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


def without_filler(text: str) -> str:
    """The text with its filler words left out and chat spellings written out, as the meaning model should read it."""
    kept = ((token, fold(token).strip(_PUNCTUATION)) for token in text.split())
    return " ".join(CHAT_SPELLINGS.get(word, token) for token, word in kept if word not in FILLER)


def plain_words(words: list[str]) -> list[str]:
    """Folded question words with filler dropped, chat spellings and short forms written out."""
    written = [CHAT_SPELLINGS.get(word, word) for word in words if word not in FILLER]
    return [part for word in written for part in _with_full_name(word)]


def _with_full_name(word: str) -> list[str]:
    full = SHORT_FORMS.get(word)
    return [word, *full.split()] if full else [word]
