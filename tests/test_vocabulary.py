import pytest

from retrieval.furniture import readable_title
from retrieval.question import question_words
from retrieval.vocabulary import CHAT_SPELLINGS, FILLER, SHORT_FORMS, plain_words, without_filler


@pytest.mark.parametrize("short, full", sorted(SHORT_FORMS.items()))
def test_each_short_form_is_read_with_the_full_name(short: str, full: str) -> None:
    assert plain_words([short]) == [short, *full.split()]


@pytest.mark.parametrize("typed, meant", sorted(CHAT_SPELLINGS.items()))
def test_each_chat_spelling_is_read_as_the_word_meant(typed: str, meant: str) -> None:
    assert plain_words([typed]) == [meant]
    assert without_filler(f"so {typed}?") == f"so {meant}"  # the word is written out, punctuation and all


@pytest.mark.parametrize("word", sorted(FILLER))
def test_each_filler_word_asks_nothing(word: str) -> None:
    assert plain_words([word, "train"]) == ["train"]


def test_chat_phrasing_reads_as_the_question_meant() -> None:
    assert question_words("hey bot, what weapons does russia want from NK lol") == [
        "weapons",
        "russia",
        "want",
        "nk",
        "north",
        "korea",
    ]
    assert without_filler("Hey, can you tell me why the train is slow? Thanks!") == "can you me why the train is slow?"


@pytest.mark.parametrize(
    "title, readable",
    [
        ("Kim arrives in Russia to meet Putin(Video) | #SiteMascot", "Kim arrives in Russia to meet Putin"),
        ("Kim arrives in Russia [Photos] - Daily Paper", "Kim arrives in Russia - Daily Paper"),
        ("Daily Paper | Kim arrives in Russia to meet Putin", "Kim arrives in Russia to meet Putin"),
        ("Kim Jong Un: North Korea leader heads to Russia", "Kim Jong Un: North Korea leader heads to Russia"),
        ("#Trending", "#Trending"),
    ],
)
def test_titles_lose_site_furniture_only(title: str, readable: str) -> None:
    assert readable_title(title) == readable
