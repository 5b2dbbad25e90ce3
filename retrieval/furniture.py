"""Page furniture: what a scraped page carries besides its story, never worth quoting.

General rules of web pages rather than strings of any one page: prose ends its sentences while
captions, credits, labels and headline lists do not; a "popular posts" block closes the story;
player and cookie notices speak of the browser, not of the news.
"""

import re

from retrieval.analysis import ends_sentence

# A heading that opens the list of links a page hangs under its story: nothing after it is story.
_END_OF_STORY = re.compile(
    r"^(?:(?:most |more )?(?:popular|related|recent|recommended|trending|latest|top|more|other)"
    r"(?: \w+){0,2} (?:posts?|stories|articles|news|reads|videos|links)|you may (?:also )?like"
    r"|read (?:more|next|also)|see also|share this(?: \w+)?|advertisement)\b",
    re.IGNORECASE,
)

# Sentences that address the reader's browser or clicks rather than tell the story.
_NOTICE = re.compile(
    r"\b(?:javascript|cookies?|browser|playback|media player|click here|tap here|subscribe"
    r"|sign up for|newsletter|all rights reserved|copyright ©)\b|\bclick\b.*\b(?:watch|read|see|here)\b",
    re.IGNORECASE,
)

# A notice holds one of these, in any case; re.IGNORECASE matches no other characters to their letters but
# these four (tests/test_furniture.py checks), so in text without them a notice holds one in lower().
_NOTICE_WORDS = (
    "javascript",
    "cookie",
    "browser",
    "playback",
    "media player",
    "click",
    "tap here",
    "subscribe",
    "sign up for",
    "newsletter",
    "all rights reserved",
    "copyright",
)
_ASCII_LOOKALIKES = re.compile("[\u0130\u0131\u017f\u212a]")  # capital I with dot, dotless i, long s, Kelvin

# Prose without a full stop still counts when it runs this long (scrapes cut sentences short).
_MIN_UNPUNCTUATED_WORDS = 30


def ends_story(paragraph: str) -> bool:
    """A short heading such as "Popular posts from this blog": what follows is not the story."""
    # Exact: split(maxsplit=8) gives a 9th piece just when there are more than 8 words.
    return len(paragraph.split(maxsplit=8)) <= 8 and bool(_END_OF_STORY.match(paragraph.strip()))


def is_prose(sentences: list[str]) -> bool:
    """Captions, credits, labels and headlines neither end a sentence nor run long."""
    if any(ends_sentence(sentence) for sentence in sentences):
        return True
    return sum(len(sentence.split()) for sentence in sentences) >= _MIN_UNPUNCTUATED_WORDS


def is_notice(sentence: str) -> bool:
    # Exact: _NOTICE needs one of _NOTICE_WORDS, which in text without look-alikes shows in lower().
    lowered = sentence.lower()
    lookalikes = not sentence.isascii() and _ASCII_LOOKALIKES.search(sentence) is not None
    return (lookalikes or any(word in lowered for word in _NOTICE_WORDS)) and bool(_NOTICE.search(sentence))


# What sites hang on a headline: media labels, hashtags, and the site's name after a bar.
_MEDIA_LABEL = re.compile(r"[(\[]\s*(?:video|videos|photos?|pictures?|watch|audio|listen|live|updated?)\s*[)\]]", re.I)
_HASHTAG = re.compile(r"(?<!\w)#\w+")


def readable_title(title: str) -> str:
    """A headline as a person would cite it: "Putin(Video) | #SiteMascot" reads "Putin"."""
    parts = [" ".join(_HASHTAG.sub(" ", _MEDIA_LABEL.sub(" ", part)).split()) for part in title.split("|")]
    headline = max(parts, key=len)
    return headline.strip(" -–—:") or title
