"""Reading a question in the light of the conversation before it, on the bundled story."""

import re

import pytest

from bot.story import BUNDLED_STORY, Story
from retrieval import Answer, Outcome, answer
from retrieval.analysis import collapse_whitespace
from retrieval.followup import Turn, read_in_context


def converse(story: Story, *questions: str) -> list[tuple[Answer, str | None]]:
    """Each question in the light of the ones before it, the history kept as a bot keeps it."""
    history: list[Turn] = []
    replies = []
    for question in questions:
        result, understood = read_in_context(story.index, question, history)
        history.append(Turn.of(understood or result.question, result))
        replies.append((result, understood))
    return replies


def test_without_a_history_a_question_is_read_alone(story: Story) -> None:
    question = "Which train does Kim use?"
    assert read_in_context(story.index, question, []) == (answer(story.index, question), None)


@pytest.mark.parametrize(
    "question",
    [
        "Which missile was on display at the conference?",
        "Is it true that Kim travelled by train to Vladivostok?",  # "it" standing for what follows
        "Are there any sanctions planned by the United States?",  # "there" pointing nowhere
    ],
)
def test_a_question_complete_in_itself_is_answered_exactly_as_alone(story: Story, question: str) -> None:
    (_, _), (result, understood) = converse(story, "Who is Sergei Shoigu?", question)
    assert understood is None
    assert result == answer(story.index, question)


def test_a_pronoun_is_read_as_the_earlier_subject(story: Story) -> None:
    follow_up = "what fuel does it use?"
    (_, _), (result, understood) = converse(story, "Which missile was on display at the conference?", follow_up)
    assert understood is not None and understood.startswith(follow_up)
    assert "missile" in understood.removeprefix(follow_up)
    assert result.quotes and "Hwasong" in result.quotes[0].text
    assert result.question == follow_up  # what the person asked, not the search behind it
    alone = answer(story.index, follow_up)
    assert not alone.quotes or "Hwasong" not in alone.quotes[0].text


def test_too_little_of_its_own_leans_on_the_last_question(story: Story) -> None:
    (_, _), (result, understood) = converse(story, "Which agency reported that Kim would leave soon?", "its name?")
    assert understood is not None and "agency" in understood
    assert result.outcome is not Outcome.DECLINED
    assert "Interfax" in result.quotes[0].text


@pytest.mark.parametrize("off_topic", ["Who painted the Mona Lisa?", "What is the boiling point of water?"])
def test_an_off_topic_question_is_declined_whatever_came_before(story: Story, off_topic: str) -> None:
    *_, (result, understood) = converse(story, "Which train does Kim use?", "how heavy is it?", off_topic)
    assert understood is None
    assert result.outcome is Outcome.DECLINED
    assert result == answer(story.index, off_topic)


def test_a_declined_turn_is_not_what_a_follow_up_is_about(story: Story) -> None:
    *_, (result, understood) = converse(
        story, "Which missile was on display at the conference?", "Who painted the Mona Lisa?", "what fuel does it use?"
    )
    assert understood is not None and "missile" in understood and "Lisa" not in understood
    assert "Hwasong" in result.quotes[0].text


@pytest.mark.parametrize("asking_for_the_source", ["says who?", "who claimed that?"])
def test_asking_who_said_it_finds_the_sentence_naming_its_source(story: Story, asking_for_the_source: str) -> None:
    (first, _), (result, understood) = converse(
        story, "Did Shoigu try to get weapons from North Korea?", asking_for_the_source
    )
    assert first.quotes
    assert understood is not None and "Shoigu" in understood
    assert result.outcome is not Outcome.DECLINED
    assert re.search(r"\baccording to\b|\bsaid\b", result.quotes[0].text)
    assert "Kirby" in result.quotes[0].text  # the spokesman the story names as its source


def test_thanks_is_not_read_as_a_follow_up(story: Story) -> None:
    (_, _), (result, understood) = converse(story, "Which train does Kim use?", "thanks!")
    assert understood is None
    assert result == answer(story.index, "thanks!")


def test_a_follow_up_quotes_the_story_word_for_word(story: Story) -> None:
    text = collapse_whitespace(" ".join(path.read_text(encoding="utf-8") for path in BUNDLED_STORY.iterdir()))
    replies = converse(story, "Which train does Kim use?", "how heavy is it?", "and how fast?", "says who?")
    assert all(understood is not None for _, understood in replies[1:])
    for result, _ in replies:
        for quote in result.quotes:
            assert quote.text in text
