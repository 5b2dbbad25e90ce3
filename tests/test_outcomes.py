"""The three outcomes as each channel shows them: never a `closest` that reads like an answer."""

import json
from dataclasses import replace

import numpy as np
import pytest

from bot.cli import as_json, main
from bot.conversation import Channel, answer_reply, not_sure
from bot.render_html import render as render_html
from bot.render_text import render as render_text
from retrieval import meaning
from retrieval.answer import POLICY, Outcome, answer

QUESTION = "Why might Russia need North Korean artillery?"
UNSURE = replace(POLICY, answer_at=float("inf"))
UNRELATED = replace(UNSURE, closest_at=float("inf"))


@pytest.mark.parametrize("policy, outcome", [(POLICY, "answered"), (UNSURE, "closest"), (UNRELATED, "declined")])
def test_json_carries_the_outcome_and_keeps_its_promises(story, policy, outcome: str) -> None:
    shown = json.loads(as_json(answer_reply(answer(story.index, QUESTION, policy), story, Channel.COMMAND_LINE)))
    assert shown["outcome"] == outcome
    assert shown["answered"] is (outcome == "answered")
    assert (shown["quotes"] == []) is (outcome == "declined")


def test_a_closest_answer_says_it_may_not_be_one_before_its_quotes(story) -> None:
    result = answer(story.index, QUESTION, UNSURE)
    assert result.outcome is Outcome.CLOSEST
    plain = render_text(answer_reply(result, story, Channel.CONSOLE))
    assert plain.startswith(not_sure())
    html = render_html(answer_reply(result, story, Channel.PRIVATE))
    assert html[0].startswith(f"<i>{not_sure()}</i>".replace("'", "&#x27;"))
    assert html[0].index("</i>") < html[0].index("<blockquote>")


def test_a_confident_answer_has_no_caveat(story) -> None:
    result = answer(story.index, QUESTION)
    assert not_sure() not in render_text(answer_reply(result, story, Channel.CONSOLE))
    assert "not sure" not in " ".join(render_html(answer_reply(result, story, Channel.PRIVATE)))


def test_a_declined_answer_quotes_nothing_and_says_what_the_story_covers(story) -> None:
    result = answer(story.index, QUESTION, UNRELATED)
    reply = render_text(answer_reply(result, story, Channel.CONSOLE))
    assert reply.startswith("The story does not answer that") and "> " not in reply


def test_a_model_that_cannot_load_is_one_line_at_start(monkeypatch, capsys, tmp_path) -> None:
    import wordllama

    def broken(*args, **kwargs):
        raise FileNotFoundError("l2_supercat_256.safetensors")

    monkeypatch.setattr(wordllama.WordLlama, "load", broken)
    meaning.embedder.cache_clear()
    try:
        status = main(["ask", "why?"])
    finally:
        meaning.embedder.cache_clear()
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "cannot load the WordLlama model" in err


def test_the_model_never_reaches_for_a_hub(monkeypatch) -> None:
    import wordllama

    calls = []
    original = wordllama.WordLlama.load.__func__

    def spy(cls, *args, **kwargs):
        calls.append(kwargs)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(wordllama.WordLlama, "load", classmethod(spy))
    meaning.embedder.cache_clear()
    try:
        vectors = meaning.embedder()(["train", "railway"])
    finally:
        meaning.embedder.cache_clear()
    assert calls and all(call["disable_download"] is True for call in calls)
    assert vectors.shape[0] == 2 and abs(float(vectors[0] @ vectors[0]) - 1.0) < 1e-4


def test_sentence_vectors_stay_bounded_and_in_order() -> None:
    def one_hot(texts: list[str]) -> np.ndarray:
        return np.eye(8, dtype=np.float32)[[len(text) for text in texts]]

    vectors = meaning.SentenceVectors(one_hot, limit=3)
    rows = vectors.get([1, 2, 3, 4, 5], lambda key: "x" * key)
    assert [int(row.argmax()) for row in rows] == [1, 2, 3, 4, 5]
    assert len(vectors._vectors) == 3
