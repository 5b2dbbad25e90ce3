"""Text analysis: sentence segmentation and the term analyzer shared by indexing and questions."""

import re
import string
import unicodedata
from collections.abc import Callable
from itertools import filterfalse

import Stemmer
from sentencex import segment

# The Snowball project's English stop word list (snowballstem.org/algorithms/english/stop.txt),
# with the contractions split the way the tokenizer below splits them.
STOP_WORDS = frozenset(
    """
i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she
her hers herself it its itself they them their theirs themselves what which who whom this that
these those am is are was were be been being have has had having do does did doing would should
could ought a an the and but if or because as until while of at by for with about against
between into through during before after above below to from up down in out on off over under
again further then once here there when where why how all any both each few more most other
some such no nor not only own same so than too very s t d ll m re ve can will just don didn
doesn isn aren wasn weren hasn haven hadn won wouldn shouldn couldn mustn shan let
""".split()
)

_WORD = re.compile(r"\w+", re.UNICODE)
_WHITESPACE = re.compile(r"\s+")
_HAS_WORD = re.compile(r"\w")
# A line that opens a list item: "- ", "* ", "• ", "1. ", "2) ".
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*•]|\d{1,3}[.)])[ \t]+(?=\S)", re.MULTILINE)
_LEADING_CLOSER = re.compile(r"\s*([”’\"')\]]+)(?=\s|$)\s*")
# A sentence ends in one of these marks, then perhaps closing quotes or brackets, then perhaps white space.
_TERMINALS = (".", "!", "?", "…")
_CLOSERS = "\"'”’)]"  # as in _LEADING_CLOSER
# Every combining character (accent) of the Basic Multilingual Plane; and any character beyond that plane.
_COMBINING_BMP = re.compile(
    "[" + "".join(re.escape(chr(c)) for c in range(0x10000) if unicodedata.combining(chr(c))) + "]+"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# For ASCII text: what \w does not match becomes a space; and what words() drops, stop words and lone letters.
_ASCII_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not _WORD.fullmatch(c)})
_ASCII_DROPPED = STOP_WORDS | frozenset(string.ascii_letters)

_stemmer = Stemmer.Stemmer("english")


def collapse_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Unicode-aware folding: compatibility forms, case and accents all compare equal."""
    if text.isascii():
        return text.lower()  # exact: ASCII casefolds as lower() does, NFKD keeps it, and none of it is combining
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if decomposed.isascii():
        return decomposed  # exact: no ASCII character is combining
    if not _ASTRAL.search(decomposed):
        return _COMBINING_BMP.sub("", decomposed)  # exact: the pattern holds every combining character below U+10000
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _Stems(dict[str, str]):
    """Words' stems, kept as they are asked for: indexing asks for every word it meets, and a hit here costs half
    what an lru_cache hit does. Emptied when full, which only costs stemming again."""

    def __missing__(self, word: str) -> str:
        if len(self) >= 65536:
            self.clear()
        stemmed: str = _stemmer.stemWord(word)
        self[word] = stemmed
        return stemmed


stem: Callable[[str], str] = _Stems().__getitem__


def words(text: str) -> list[str]:
    """The words that carry meaning: folded, stop words and lone letters removed."""
    folded = fold(text)
    if folded.isascii():
        # Exact: \w+ runs are what split() leaves once the rest is spaces, and the lone ASCII letters are these.
        return list(filterfalse(_ASCII_DROPPED.__contains__, folded.translate(_ASCII_NON_WORD).split()))
    return [w for w in _WORD.findall(folded) if w not in STOP_WORDS and not (len(w) == 1 and w.isalpha())]


def analyze(text: str) -> list[str]:
    """Index terms: the meaningful words, Snowball-stemmed."""
    return [stem(w) for w in words(text)]


def matched_spans(text: str, terms: frozenset[str]) -> tuple[tuple[int, int], ...]:
    """Where in `text` the words stand whose terms are among `terms`: (start, end) character offsets."""
    return tuple(word.span() for word in _WORD.finditer(text) if not terms.isdisjoint(analyze(word.group())))


def ends_sentence(text: str) -> bool:
    # Stripping from the right is exact: no terminal mark is white space or a closer.
    return text.rstrip().rstrip(_CLOSERS).endswith(_TERMINALS)


def is_list(paragraph: str) -> bool:
    """Whether the paragraph holds list items: each is quotable, though it may end without a full stop."""
    return bool(_list_markers(paragraph))


def _list_markers(paragraph: str) -> list[re.Match[str]]:
    if "\n" not in paragraph:
        first = _LIST_ITEM.match(paragraph)  # exact: with one line, ^ stands only at its start
        return [first] if first else []
    return list(_LIST_ITEM.finditer(paragraph))


def sentence_spans(paragraph: str) -> list[tuple[int, int]]:
    """Where each sentence of a paragraph starts and ends, in order; a list item ends a sentence, and its
    marker ("-", "*", "1.") belongs to none."""
    spans = []
    for start, end in _runs(paragraph):
        spans += [(start + first, start + last) for first, last in _segmented(paragraph[start:end])]
    return spans


def _runs(paragraph: str) -> list[tuple[int, int]]:
    """The paragraph's text but list markers: what comes before the first item, then each item."""
    markers = _list_markers(paragraph)
    if not markers:
        return [(0, len(paragraph))]
    ends = [marker.start() for marker in markers[1:]] + [len(paragraph)]
    runs = [(0, markers[0].start())] + [(marker.end(), end) for marker, end in zip(markers, ends, strict=True)]
    return [(start, end) for start, end in runs if paragraph[start:end].strip()]


# Line breaks, and the spaces beyond ASCII (no-break, thin, ideographic): sentencex panics on an initial followed by one
# of them and a full stop ("Plan B\u00a0."), a Rust panic no `except Exception` catches. One character for one, so the
# segmenter's offsets stay the paragraph's.
_AS_SPACE = {code: " " for code in range(0x110000) if chr(code).isspace() and (code > 127 or chr(code) == "\n")}


def _segmented(paragraph: str) -> list[tuple[int, int]]:
    """Sentences come from sentencex (Wikimedia's rule-based segmenter, fast enough for an archive).

    Line breaks inside a paragraph are read as spaces, so hard-wrapped text stays whole. The
    segmenter sometimes opens a sentence with the closing quote of the one before, or leaves a
    fragment with no word in it; both go back to the sentence they close. Quotes are cut from the
    paragraph by these spans, so they cannot differ from their source.
    """
    flat = paragraph.translate(_AS_SPACE)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in segment("en", flat):
        start = flat.find(piece, cursor)
        if start < 0 or not piece.strip():
            continue
        end = cursor = start + len(piece)
        start, end = start + len(piece) - len(piece.lstrip()), end - (len(piece) - len(piece.rstrip()))
        if spans:
            # Exact: start is past white space, so _LEADING_CLOSER can only match from a closer.
            closer = _LEADING_CLOSER.match(flat, start) if flat[start] in _CLOSERS else None
            if closer:
                spans[-1] = (spans[-1][0], closer.end(1))
                start = closer.end()
            if not _HAS_WORD.search(flat, start, end):
                spans[-1] = (spans[-1][0], end)
                continue
        spans.append((start, end))
    return spans
