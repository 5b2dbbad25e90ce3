import math
import re
import sys
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sentencex import segment

from retrieval.analysis import (
    _HAS_WORD,
    _LEADING_CLOSER,
    _LIST_ITEM,
    STOP_WORDS,
    _list_markers,
    _stemmer,
    analyze,
    collapse_whitespace,
    ends_sentence,
    fold,
    is_list,
    sentence_spans,
    stem,
    words,
)


def sentences(paragraph: str) -> list[str]:
    return [collapse_whitespace(paragraph[start:end]) for start, end in sentence_spans(paragraph)]


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = "The U.S. government noted it. Mr. Kim met M. Shoigu in July. Then he left."
    assert sentences(text) == ["The U.S. government noted it.", "Mr. Kim met M. Shoigu in July.", "Then he left."]


def test_measurements_and_curly_quotes_stay_whole() -> None:
    text = (
        "It is unable to travel faster than 59 km / h( 37 mph ). It is anticipated. "
        "Mr. Kim is anticipated to check-out” in the coming times.” Next."
    )
    assert sentences(text) == [
        "It is unable to travel faster than 59 km / h( 37 mph ).",
        "It is anticipated.",
        "Mr. Kim is anticipated to check-out” in the coming times.”",
        "Next.",
    ]


def test_hard_wrapped_lines_do_not_split_a_sentence() -> None:
    assert sentences("A sentence that\nwraps over lines. Another.") == ["A sentence that wraps over lines.", "Another."]


def test_spans_are_verbatim() -> None:
    text = "First  one.\n\tSecond “quoted” one!  Third?"
    for start, end in sentence_spans(text):
        assert collapse_whitespace(text[start:end]) in collapse_whitespace(text)


def test_stemming_meets_word_forms() -> None:
    assert analyze("travelled") == analyze("travel")
    assert analyze("negotiations") == analyze("negotiate")


def test_folding_is_unicode_aware_and_stop_words_go() -> None:
    assert analyze("CAFÉ Straße") == analyze("cafe strasse")
    assert analyze("What is the") == []
    assert analyze("Russia’s") == analyze("Russia") == ["russia"]


def test_questions_lose_terminal_escapes_markup_and_entities() -> None:
    from retrieval.question import clean_question

    assert clean_question("<b>Who</b>\x1b[31m is\x00 Kim &amp; Putin?\u202e") == "Who is Kim & Putin?"
    assert clean_question("Is 3 < 4 and 5 > 2?") == "Is 3 < 4 and 5 > 2?"


def test_rare_words_tell_more_than_common_ones() -> None:
    from retrieval.english import RAREST, surprisal

    assert surprisal("the") < surprisal("train") < surprisal("artillery") <= -math.log10(RAREST)
    assert surprisal("xqzvtk") == -math.log10(RAREST)


# The fast paths below must return what the straightforward definitions return, for every text.

# Characters where the fast paths could go wrong: case, compatibility forms, accents in and beyond the Basic
# Multilingual Plane, Unicode white space, terminal marks and closers, list markers.
TRICKY = list(
    "aZ09_ .!?…\"'”’)]-*•\n\t\r\x0b\x0c\x1c\x85\xa0\u2028\u3000éÉßẞİıſKﬁ①²µΣςᴬ\u0300\u0301\u0345\u20dd"
    "\U0001d165\U0001d16e\U000101fd\U0001f600\U00010400"
)
TEXTS = st.one_of(st.text(), st.text(alphabet=st.sampled_from(TRICKY)))
EVERY_CHARACTER = "".join(map(chr, range(sys.maxunicode + 1)))


def fold_as_defined(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def ends_sentence_as_defined(text: str) -> bool:
    return bool(re.search(r"[.!?…][\"'”’)\]]*\s*$", text))


@given(TEXTS)
@settings(max_examples=2000)
def test_fold_is_its_definition(text: str) -> None:
    assert fold(text) == fold_as_defined(text)
    found = re.findall(r"\w+", fold_as_defined(text))
    assert words(text) == [w for w in found if w not in STOP_WORDS and not (len(w) == 1 and w.isalpha())]


def test_fold_is_its_definition_for_every_character() -> None:
    assert all(fold(c) == fold_as_defined(c) for c in EVERY_CHARACTER[:128])  # ASCII, one by one
    for start in range(0, len(EVERY_CHARACTER), 4096):
        chunk = EVERY_CHARACTER[start : start + 4096]
        assert fold(chunk) == fold_as_defined(chunk)


@given(st.one_of(TEXTS, st.text(alphabet=st.sampled_from(list(".!?…\"'”’)] \n\t\xa0\u2028x")))))
@settings(max_examples=2000)
def test_ends_sentence_is_its_definition(text: str) -> None:
    assert ends_sentence(text) == ends_sentence_as_defined(text)


def test_regex_white_space_is_str_white_space() -> None:
    # ends_sentence strips with str.rstrip where the definition reads \s.
    assert re.findall(r"\s", EVERY_CHARACTER) == [c for c in EVERY_CHARACTER if c.isspace()]


@given(TEXTS)
@settings(max_examples=2000)
def test_list_markers_are_their_definition(text: str) -> None:
    assert [m.span() for m in _list_markers(text)] == [m.span() for m in _LIST_ITEM.finditer(text)]
    assert is_list(text) == bool(_LIST_ITEM.search(text))


def sentence_spans_as_defined(paragraph: str) -> list[tuple[int, int]]:
    markers = list(_LIST_ITEM.finditer(paragraph))
    runs = [(0, len(paragraph))]
    if markers:
        ends = [marker.start() for marker in markers[1:]] + [len(paragraph)]
        runs = [(0, markers[0].start())] + [(marker.end(), end) for marker, end in zip(markers, ends, strict=True)]
        runs = [(start, end) for start, end in runs if paragraph[start:end].strip()]
    spans = []
    for run_start, run_end in runs:
        # Line breaks and spaces beyond ASCII read as spaces (sentencex panics on "B\xa0.").
        flat = "".join(" " if c.isspace() and (c == "\n" or ord(c) > 127) else c for c in paragraph[run_start:run_end])
        segmented: list[tuple[int, int]] = []
        cursor = 0
        for piece in segment("en", flat):
            start = flat.find(piece, cursor)
            if start < 0 or not piece.strip():
                continue
            end = cursor = start + len(piece)
            start, end = start + len(piece) - len(piece.lstrip()), end - (len(piece) - len(piece.rstrip()))
            if segmented:
                closer = _LEADING_CLOSER.match(flat, start)
                if closer:
                    segmented[-1] = (segmented[-1][0], closer.end(1))
                    start = closer.end()
                if not _HAS_WORD.search(flat, start, end):
                    segmented[-1] = (segmented[-1][0], end)
                    continue
            segmented.append((start, end))
        spans += [(run_start + first, run_start + last) for first, last in segmented]
    return spans


def outcome(spans: Callable[[str], list[tuple[int, int]]], text: str) -> list[tuple[int, int]] | str:
    """What a sentence splitter gives, or the name of what it raises: sentencex panics on some text ("Z\xa0.")."""
    try:
        return spans(text)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # pyo3's PanicException is no Exception
        return type(error).__name__


PIECES = ["He said", ". ", "“No.", "”", "’", '"', " ", ")", "]", "Then", "\n- ", "\n1. ", "x", "!", "?"]


@given(st.one_of(TEXTS, st.lists(st.sampled_from(PIECES)).map("".join)))
@settings(max_examples=2000)
# Sentences sentencex opens with the closer of the one before, one for each closer.
@example("He said?’” Then x")
@example('He said!"’ Then x')
@example("He said.) Then x")
@example("He said!] Then x")
@example('He said!’" Then x')
def test_sentence_spans_are_their_definition(text: str) -> None:
    assert outcome(sentence_spans, text) == outcome(sentence_spans_as_defined, text)


@given(st.lists(st.text(alphabet=st.sampled_from(list("abeginorstyé")), max_size=8), max_size=200))
def test_stems_are_snowball_stems(words: list[str]) -> None:
    assert [stem(w) for w in words * 2] == [_stemmer.stemWord(w) for w in words * 2]


@pytest.mark.parametrize("space", ["\u00a0", "\u2009", "\u3000", "\u2029", "\u0085"])
def test_an_initial_before_an_unusual_space_and_a_full_stop_is_segmented_not_a_crash(space: str) -> None:
    """sentencex panics (in Rust, past any `except Exception`) on "B<no-break space>."; such spaces read as spaces."""
    paragraph = f"They chose Plan B{space}. It failed in a week."
    spans = sentence_spans(paragraph)
    assert [paragraph[start:end] for start, end in spans][-1] == "It failed in a week."
    assert spans[0][0] == 0
