"""English at large: the background against which a question's telling words stand out."""

import math
from functools import lru_cache

from wordfreq import word_frequency

# wordfreq's small English list stops at one word in a million; anything rarer is that rare.
RAREST = 1e-6


@lru_cache(maxsize=65536)
def surprisal(word: str) -> float:
    """How much a word tells, in decimal digits: 1.3 for "the", 6 for a name no list knows.

    A question's rare words carry its topic; its common ones could be asked of any story.
    """
    return -math.log10(max(word_frequency(word, "en", wordlist="small"), RAREST))


def is_english(word: str) -> bool:
    """Whether the word list knows the word at all: one it does not is a name, a coinage or a typo."""
    return word_frequency(word, "en", wordlist="small") > 0
