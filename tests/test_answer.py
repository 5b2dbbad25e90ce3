import re
from dataclasses import replace

import pytest

from retrieval.analysis import collapse_whitespace
from retrieval.answer import MAX_QUESTION_CHARS, MAX_QUOTES, POLICY, Outcome, Problem, answer
from retrieval.corpus import load_corpus

QUESTIONS = [
    "Why might Russia need North Korean artillery?",
    "What train does Kim use?",
    "When did Kim arrive in Russia?",
    "What did Dmitry Peskov say?",
    "Where did Kim and Putin meet in 2019?",
    "Who is Sergei Shoigu?",
    "What weapons were on display in July?",
    "How fast can the train travel?",
]
OFF_TOPIC = ["What's the weather in London today?", "Who wrote Hamlet?", "How do I bake sourdough bread?"]


def test_the_mission_example_quotes_both_articles(story) -> None:
    result = answer(story.index, "Why might Russia need North Korean artillery?")
    assert result.answered and len(result.quotes) <= MAX_QUOTES
    texts = [q.text for q in result.quotes]
    assert any("supplies of North Korean artillery" in t for t in texts)
    assert any("limited stockpiles" in t and "122mm and 152mm" in t for t in texts)
    assert len({q.doc_id for q in result.quotes}) == 2


@pytest.mark.parametrize("question", QUESTIONS)
def test_quotes_are_verbatim_and_cited(story, question: str) -> None:
    result = answer(story.index, question)
    assert result.outcome is not Outcome.DECLINED
    assert 1 <= len(result.quotes) <= MAX_QUOTES
    documents = {d.doc_id: d for d in load_corpus(story.source).documents}  # the files, not the index
    for quote in result.quotes:
        document = documents[quote.doc_id]
        assert quote.title == document.title
        assert quote.text in collapse_whitespace(document.paragraphs[quote.paragraph - 1])
        assert "…" not in quote.text and "..." not in quote.text
    scores = [q.score for q in result.quotes]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("question", QUESTIONS)
def test_no_two_quotes_say_the_same_thing(story, question: str) -> None:
    texts = [q.text for q in answer(story.index, question).quotes]
    assert len(set(texts)) == len(texts)
    assert not any(a in b for a in texts for b in texts if a is not b)


def test_a_quote_that_leans_on_the_sentence_before_brings_it_along(story) -> None:
    texts = [q.text for q in answer(story.index, "Why might Russia need North Korean artillery?").quotes]
    stockpiles = next(t for t in texts if "limited stockpiles" in t)
    assert stockpiles.startswith("Due to its limited stockpiles") and "However, due to" in stockpiles


@pytest.mark.parametrize("question", [*OFF_TOPIC, "asdf qwerty zxcv", "xyzzy?"])
def test_off_topic_and_gibberish_are_declined(story, question: str) -> None:
    result = answer(story.index, question)
    assert result.outcome is Outcome.DECLINED and result.quotes == () and result.problem is None


@pytest.mark.parametrize("question", ["", "   ", "?!", "what is the"])
def test_empty_questions_are_declined(story, question: str) -> None:
    result = answer(story.index, question)
    assert result.outcome is Outcome.DECLINED and result.problem is Problem.NO_QUESTION and not result.quotes


def test_a_huge_question_is_declined_not_searched(story) -> None:
    result = answer(story.index, "train " * 4000)
    assert result.problem is Problem.TOO_LONG and result.outcome is Outcome.DECLINED
    assert len(result.question) <= MAX_QUESTION_CHARS


def test_markup_and_control_characters_are_harmless(story) -> None:
    result = answer(story.index, "<b>What</b> train\x00 does\x1b[31m Kim &amp; use?\u202e")
    assert result.answered
    assert not re.search(r"[\x00-\x1f\u202e]", result.question)


def test_the_three_outcomes_part_where_the_policy_says(story) -> None:
    question = "Why might Russia need North Korean artillery?"
    sure = answer(story.index, question)
    unsure = answer(story.index, question, replace(POLICY, answer_at=float("inf")))
    unrelated = answer(story.index, question, replace(POLICY, answer_at=float("inf"), closest_at=float("inf")))
    assert sure.outcome is Outcome.ANSWERED and sure.answered
    assert unsure.outcome is Outcome.CLOSEST and not unsure.answered and unsure.quotes == sure.quotes
    assert unrelated.outcome is Outcome.DECLINED and unrelated.quotes == ()


@pytest.mark.parametrize(
    "question, answer_text",
    [
        ("how fast does the armoured train go", "59 km"),
        ("can you tell me how many cars the train has", "20 bulletproof cars"),
        ("who is shoigu", "the defense secretary of Russia"),
    ],
)
def test_the_sentence_holding_the_kind_of_answer_asked_for_comes_first(story, question, answer_text) -> None:
    result = answer(story.index, question)
    assert result.quotes and answer_text in result.quotes[0].text


def test_chat_phrasing_without_the_story_words_finds_the_answer(story) -> None:
    result = answer(story.index, "how speedy is the armoured train")  # the story: "unable to travel faster than"
    assert result.outcome is not Outcome.DECLINED and "59 km" in " ".join(q.text for q in result.quotes)


def test_a_question_asking_for_a_figure_the_story_lacks_weighs_less(tmp_path) -> None:
    index = _index_of(
        tmp_path,
        "Ferries\n\nThe harbour ferry Maribel crossed the strait at dawn with its captain aboard.\n\n"
        "Its captain said the new engines of the ferry Maribel mattered because they made the crossing quicker.\n",
    )
    asked = "How much did the new engines of the ferry Maribel cost?"
    assert answer(index, asked).kind_missing
    assert not answer(index, "Why did the new engines of the ferry Maribel matter?").kind_missing
    assert answer(index, asked, replace(POLICY, kind_missing_penalty=10.0)).outcome is Outcome.CLOSEST


def test_the_examples_offered_to_people_are_answered(story) -> None:
    from bot.story import BUNDLED_EXAMPLES

    for question in BUNDLED_EXAMPLES:
        assert answer(story.index, question).answered, question


def test_a_tiny_corpus_where_every_paragraph_matches_still_answers(tmp_path) -> None:
    from retrieval.index import Index

    body = "\n\n".join(f"The armored train rolled slowly through valley number {n}." for n in range(3))
    (tmp_path / "a.txt").write_text(f"Trains\n\n{body}\n", encoding="utf-8")
    result = answer(Index.build(load_corpus(tmp_path)), "How slowly did the armored train roll?")
    assert result.answered and result.quotes


def _index_of(tmp_path, text: str):
    from retrieval.index import Index

    (tmp_path / "story.txt").write_text(text, encoding="utf-8")
    return Index.build(load_corpus(tmp_path))


def test_a_misspelt_name_finds_the_story_spelling(story) -> None:
    assert story.index.term_for("shoygu") == story.index.term_for("shoigu")
    result = answer(story.index, "Who is Sergei Shoygu?")
    assert result.answered and "Shoigu" in result.quotes[0].text


def test_numbers_and_short_words_are_never_respelt(story) -> None:
    assert story.index.term_for("2018") == "2018"  # the story has 2019; a different year is a different fact
    assert story.index.term_for("kin") == "kin"


def test_greetings_and_courtesies_do_not_count_against_a_question(story) -> None:
    plain = answer(story.index, "Why might Russia need North Korean artillery?")
    polite = answer(story.index, "Hey, why might Russia need North Korean artillery? Thanks!")
    assert polite.answered and [q.text for q in polite.quotes] == [q.text for q in plain.quotes]


def test_the_best_quote_brings_the_sentence_after_it(tmp_path) -> None:
    index = _index_of(
        tmp_path,
        "Ferries\n\nThe harbour ferry Maribel crossed the strait at dawn. Forty passengers were aboard. "
        "Storms closed the port later.\n",
    )
    result = answer(index, "When did the ferry Maribel cross the strait?")
    assert (
        result.quotes[0].text == "The harbour ferry Maribel crossed the strait at dawn. Forty passengers were aboard."
    )


def test_a_question_sharing_only_common_words_with_the_story_is_declined(tmp_path) -> None:
    index = _index_of(
        tmp_path,
        "Ferries\n\nThe harbour ferry Maribel crossed the strait at dawn in the first year of service.\n\n"
        "Its captain said the new engines made the crossing quicker than before.\n",
    )
    assert answer(index, "What did the captain say about the engines?").answered
    # "year", "first" and "said" are in the story; what the question is about is not.
    assert not answer(index, "What did the senator say about tariffs in the first year?").answered


def test_a_country_asked_by_its_people_or_capital_is_found_by_its_name(tmp_path) -> None:
    index = _index_of(
        tmp_path,
        "Harvest\n\nPeru exported a record quinoa harvest this spring.\n\n"
        "The ferry Maribel crossed the strait at dawn.\n",
    )
    for question in ("What harvest did the Peruvians export?", "what harvest did lima export"):
        result = answer(index, question)
        assert result.coverage == 1.0, question  # every word of the question is held, the country by another name
        assert result.quotes[0].text.startswith("Peru exported")


def test_another_name_for_a_country_does_not_count_twice(tmp_path) -> None:
    index = _index_of(tmp_path, "Harvest\n\nPeruvian farmers exported quinoa.\n\nThe ferry Maribel crossed at dawn.\n")
    assert answer(index, "what did peruvian farmers export").coverage == 1.0
    assert answer(index, "what did peru farmers export").coverage == 1.0


_HARBOUR = (
    "Harbour\n\nIn Valparaiso the ferry Maribel crossed the strait at dawn.\n\n"
    "In Valparaiso the port authority counted forty passengers aboard.\n\n"
    "In Valparaiso the captain blamed the storms for the delay.\n\n"
    "In Valparaiso the new engines were fitted last spring.\n"
)


def test_a_word_in_every_passage_tells_less_than_one_in_a_single_passage(tmp_path) -> None:
    from retrieval.analysis import stem
    from retrieval.answer import specificity

    index = _index_of(tmp_path, _HARBOUR)
    setting, once, absent = (frozenset({(stem(word),)}) for word in ("valparaiso", "captain", "zeppelin"))
    assert specificity(index, once) == 1.0
    assert specificity(index, absent) == 1.0  # nothing suggests the story is about it
    assert 0.0 < specificity(index, setting) < 0.5
    # A word asked by several names is as common as its commonest one in the story.
    assert specificity(index, frozenset({(stem("captain"),), (stem("valparaiso"),)})) == specificity(index, setting)


def test_sharing_only_the_story_s_setting_counts_for_little(tmp_path) -> None:
    index = _index_of(tmp_path, _HARBOUR)
    question = "is the opera house in valparaiso open on sundays"
    plain = answer(index, question, replace(POLICY, specificity_power=0.0))
    weighed = answer(index, question, replace(POLICY, specificity_power=1.0))
    assert weighed.specific_coverage < plain.specific_coverage / 2
    assert weighed.coverage == plain.coverage  # whether quotes answer is weighed as before: only declining changes
    # A question about what the story tells apart keeps what it holds: both its words are in one passage.
    held = answer(index, "what did the captain blame in valparaiso", replace(POLICY, specificity_power=1.0))
    assert held.specific_coverage == 1.0
