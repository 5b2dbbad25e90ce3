import math

from retrieval.analysis import analyze, collapse_whitespace, sentence_spans


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
