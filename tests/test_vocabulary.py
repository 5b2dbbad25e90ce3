import pytest

from retrieval.analysis import words
from retrieval.countries import other_names
from retrieval.furniture import readable_title
from retrieval.question import question_words
from retrieval.vocabulary import CHAT_SPELLINGS, FILLER, SHORT_FORMS, QuestionWord, plain_words, without_filler


@pytest.mark.parametrize("short, full", sorted(SHORT_FORMS.items()))
def test_each_short_form_is_read_with_the_full_name(short: str, full: str) -> None:
    assert plain_words([short]) == [QuestionWord(short, (tuple(full.split()),))]


@pytest.mark.parametrize("typed, meant", sorted(CHAT_SPELLINGS.items()))
def test_each_chat_spelling_is_read_as_the_words_meant(typed: str, meant: str) -> None:
    assert plain_words([typed]) == [QuestionWord(word) for word in words(meant)]
    assert without_filler(f"so {typed}?") == f"so {meant}"  # the word is written out, punctuation and all


def test_contractions_typed_without_the_apostrophe_ask_nothing() -> None:
    assert plain_words(["wasnt", "whats", "im", "dont", "train"]) == [QuestionWord("train")]


@pytest.mark.parametrize("word", sorted(FILLER))
def test_each_filler_word_asks_nothing(word: str) -> None:
    assert plain_words([word, "train"]) == [QuestionWord("train")]


def test_a_misspelt_stop_word_asks_nothing_but_a_misspelt_word_of_the_story_still_asks() -> None:
    assert plain_words(["befor", "becuase", "abuot", "trian"]) == [QuestionWord("trian")]
    assert plain_words(["mother", "whither"]) == [QuestionWord("mother"), QuestionWord("whither")]  # English words


def test_countries_are_read_with_their_other_names() -> None:
    assert plain_words(["russians"]) == [QuestionWord("russians", (("russia",),))]
    assert plain_words(["russia"]) == [QuestionWord("russia", (("russian",),))]
    assert plain_words(["north", "korean", "artillery"]) == [
        QuestionWord("north"),
        QuestionWord("korean", (("north", "korea"),)),
        QuestionWord("artillery"),
    ]
    assert plain_words(["seoul"]) == [QuestionWord("seoul", (("south", "korea"), ("south", "korean")))]
    assert plain_words(["american"]) == [QuestionWord("american", (("united", "states"),))]  # not American Samoa's


def test_capitals_that_are_ordinary_words_stand_for_no_country() -> None:
    names = other_names()
    assert ("valley",) not in names  # Anguilla's capital, The Valley
    assert ("moscow",) in names


def test_chat_phrasing_reads_as_the_question_meant() -> None:
    assert question_words("hey bot, what weapons does russia want from NK lol") == [
        QuestionWord("weapons"),
        QuestionWord("russia", (("russian",),)),
        QuestionWord("want"),
        QuestionWord("nk", (("north", "korea"),)),
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
