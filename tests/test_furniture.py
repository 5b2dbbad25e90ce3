import re
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.analysis import ends_sentence
from retrieval.corpus import load_corpus
from retrieval.furniture import (
    _ASCII_LOOKALIKES,
    _END_OF_STORY,
    _NOTICE,
    _NOTICE_WORDS,
    ends_story,
    is_notice,
    is_prose,
)
from retrieval.index import Index


def test_captions_credits_and_headlines_are_not_prose() -> None:
    assert not is_prose(["File Image"])
    assert not is_prose(["Reuters"])
    assert not is_prose(["Jong Un Kim and Vladimir Putin at the summit in Vladivostok"])
    assert is_prose(["The leaders met on Tuesday."])
    assert is_prose(["They met.", "The government noted that it was closely following the meeting"])


def test_long_unpunctuated_text_is_still_prose() -> None:
    assert is_prose([" ".join(["word"] * 40)])


def test_related_links_headings_end_the_story() -> None:
    for heading in ("Popular posts from this blog", "Related articles", "You may also like", "More stories"):
        assert ends_story(heading)
    assert not ends_story("Popular support for the deal grew over the summer, officials said.")


def test_player_and_call_to_action_notices() -> None:
    assert is_notice("Click Here to watch the moment he arrived.")
    assert is_notice("You must enable JavaScript in your browser to watch this video.")
    assert not is_notice("The leader arrived by train on Tuesday.")


def test_furniture_never_reaches_the_index(tmp_path: Path) -> None:
    (tmp_path / "page.txt").write_text(
        "A Headline\n\nPhoto caption of the leaders\n\nThe leaders met in the city on Tuesday.\n\n"
        "Click here to watch the video.\n\nThis video cannot be played in your browser.\n\n"
        "Popular posts from this blog\n\nAnother story entirely about other leaders meeting.\n",
        encoding="utf-8",
    )
    index = Index.build(load_corpus(tmp_path))
    quotable = [p.quote(0, len(p.sentences) - 1) for p in map(index.passage, range(len(index)))]
    assert quotable == ["The leaders met in the city on Tuesday."]
    assert [p.paragraph for p in map(index.passage, range(len(index)))] == [2]


def test_the_bundled_story_quotes_no_page_furniture(story) -> None:
    text = " ".join(p.quote(0, len(p.sentences) - 1) for p in map(story.index.passage, range(len(story.index))))
    for furniture in ("File Image", "Click Here", "Popular posts", "JavaScript", "playback", "Reuters", "Otti Adds"):
        assert furniture not in text


# The fast paths above must return what the straightforward definitions return, for every text.

TRICKY = list(" \t\n\xa0\u3000.!?”©abcdefghijklmnopqrstuvwxyzACKIS\u0130\u0131\u017f\u212aé’")
NOTICE_PIECES = [*_NOTICE_WORDS, "cookies", "click here", "copyright ©", "read", "watch", "here", "popular posts"]


@st.composite
def texts(draw: st.DrawFn) -> str:
    """Arbitrary text, or notice words and story headings in any case, some letters swapped for look-alikes."""
    piece = st.one_of(st.text(), st.text(alphabet=st.sampled_from(TRICKY)), st.sampled_from(NOTICE_PIECES))
    pieces = draw(st.lists(piece))
    text = "".join(draw(st.sampled_from([p, p.upper(), p.title()])) for p in pieces)
    swaps = {"i": "\u0131", "I": "\u0130", "s": "\u017f", "k": "\u212a", "K": "\u212a"}
    chance = draw(st.randoms(use_true_random=False))
    return "".join(swaps.get(c, c) if chance.random() < 0.1 else c for c in text)


@given(texts())
@settings(max_examples=1500)
def test_is_notice_is_its_definition(text: str) -> None:
    assert is_notice(text) == bool(_NOTICE.search(text))


@given(texts())
@settings(max_examples=500)
def test_ends_story_is_its_definition(text: str) -> None:
    assert ends_story(text) == (len(text.split()) <= 8 and bool(_END_OF_STORY.match(text.strip())))


@given(st.lists(texts(), max_size=4))
@settings(max_examples=500)
def test_is_prose_is_its_definition(sentences: list[str]) -> None:
    words = sum(len(sentence.split()) for sentence in sentences)
    assert is_prose(sentences) == (any(ends_sentence(s) for s in sentences) or words >= 30)


def test_only_the_look_alikes_match_notice_letters_regardless_of_case() -> None:
    beyond_ascii = "".join(map(chr, range(0x80, sys.maxunicode + 1)))
    matched = {c for letter in set("".join(_NOTICE_WORDS)) for c in re.findall(letter, beyond_ascii, re.IGNORECASE)}
    assert matched == set(_ASCII_LOOKALIKES.pattern.strip("[]"))
