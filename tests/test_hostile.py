"""Anything at all, from people or from files: never an exception, always HTML Telegram accepts, never too long."""

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation import Channel, answer_reply
from bot.render_html import MESSAGE_LIMIT, render
from bot.render_text import render as render_plain
from bot.story import Story
from retrieval.answer import answer
from retrieval.corpus import CorpusError, load_corpus
from retrieval.index import Index
from tests.fake_bot_api import parse_telegram_html

MARKUP = ["<b>", "</b>", "<blockquote>", "</blockquote>", "<a href='x'>", "&amp;", "&", "<", ">", "&#0;", '"', "'"]
STORY_WORDS = ["Kim", "train", "Russia", "artillery", "Putin", "Shoigu", "why", "who", "2019", "North Korean"]

questions = st.one_of(
    st.text(),  # any Unicode: controls, bidi marks, combining characters, emoji
    st.lists(st.sampled_from(MARKUP + STORY_WORDS + [" ", "\x00", "\u202e", "\x1b[31m", "\n"]), max_size=60).map(
        "".join
    ),
    st.builds(lambda word, n: (word + " ") * n, st.sampled_from(STORY_WORDS), st.integers(0, 3000)),  # huge
)
lenient = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@lenient
@given(question=questions)
def test_any_question_becomes_telegram_html_within_the_limit(story: Story, question: str) -> None:
    result = answer_reply(answer(story.index, question), story, Channel.PRIVATE)
    pages = render(result)
    assert pages
    for page in pages:
        assert len(page) <= MESSAGE_LIMIT
        assert parse_telegram_html(page).strip()  # raises on anything Telegram would refuse
    assert render_plain(result).strip()


def huge_line(word: str, times: int) -> bytes:
    return ("Title\n\n" + (word + " ") * times).encode()


# What a corpus folder may hold besides good stories.
files = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000).map(lambda text: text.encode("utf-16")),
    st.text(alphabet=string.printable + "éüßñ", max_size=2000).map(lambda text: text.encode("latin-1")),
    st.text(max_size=2000).map(lambda text: b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")),
    st.builds(
        lambda word, n: ("Title\n\n" + (word + " ") * n).encode(), st.sampled_from(STORY_WORDS), st.integers(0, 200_000)
    ),
)


@settings(max_examples=60, deadline=None)
@given(contents=st.lists(files, min_size=1, max_size=3), suffix=st.sampled_from([".txt", ".md", ".html", ".pdf"]))
def test_any_file_is_skipped_or_served_never_a_crash(
    tmp_path_factory: pytest.TempPathFactory, contents, suffix
) -> None:
    folder: Path = tmp_path_factory.mktemp("corpus")
    for n, content in enumerate(contents):
        (folder / f"file{n}{suffix}").write_bytes(content)
    try:
        index = Index.build(load_corpus(folder))
    except CorpusError as error:
        assert str(error) and "\n" not in str(error)
        return
    answer(index, "What happened to the train?")
