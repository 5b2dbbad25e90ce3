"""The conversation core: one decision for every channel, and words that name only the channel's commands."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.conversation import Channel, Conversation, Kind
from bot.render_html import render as render_html
from bot.render_text import render as render_text
from bot.story import Story

EXAMPLE = "Why might Russia need North Korean artillery?"
CHATS = [Channel.PRIVATE, Channel.GROUP, Channel.CONSOLE]


@pytest.fixture
def conversation(story: Story) -> Conversation:
    return Conversation(story)


@pytest.mark.parametrize("channel", [*CHATS, Channel.INLINE, Channel.COMMAND_LINE])
def test_every_channel_gets_the_same_answer(conversation: Conversation, channel: Channel) -> None:
    reply = conversation.reply(EXAMPLE, channel)
    alone = conversation.answer(EXAMPLE, Channel.PRIVATE)
    assert reply is not None and reply.kind is Kind.ANSWER and reply.answer == alone.answer


@pytest.mark.parametrize(
    ("text", "kind"),
    [("/start", Kind.START), ("/help", Kind.HELP), ("/sources", Kind.SOURCES), ("/ask", Kind.HOW_TO_ASK),
     (f"/ask@StoryBot {EXAMPLE}", Kind.ANSWER), ("/frobnicate", Kind.UNKNOWN_COMMAND)],
)  # fmt: skip
@pytest.mark.parametrize("channel", CHATS)
def test_chat_commands_mean_the_same_in_every_chat(
    conversation: Conversation, channel: Channel, text: str, kind: Kind
) -> None:
    reply = conversation.reply(text, channel)
    assert reply is not None and reply.kind is kind


def test_the_command_line_has_no_chat_commands(conversation: Conversation) -> None:
    asked = conversation.reply("/help", Channel.COMMAND_LINE)
    assert asked is not None and asked.answer is not None and asked.answer.question == "/help"  # a line like any
    reply = conversation.reply("Who wrote Hamlet?", Channel.COMMAND_LINE)
    assert reply is not None and reply.kind is Kind.DECLINED
    assert "/sources" not in reply.words and "`storybot sources`" in reply.words


@pytest.mark.parametrize("channel", CHATS)
def test_a_decline_in_a_chat_points_at_sources(conversation: Conversation, channel: Channel) -> None:
    reply = conversation.reply("Who wrote Hamlet?", channel)
    assert reply is not None and reply.kind is Kind.DECLINED and "send /sources" in reply.words


def test_only_the_console_knows_quit(conversation: Conversation) -> None:
    console_help = conversation.reply("/help", Channel.CONSOLE)
    telegram_help = conversation.reply("/help", Channel.PRIVATE)
    assert console_help is not None and telegram_help is not None
    assert "/quit" in console_help.words and "/quit" not in telegram_help.words
    quit_ = conversation.reply("/quit", Channel.CONSOLE)
    assert quit_ is not None and quit_.kind is Kind.QUIT
    elsewhere = conversation.reply("/quit", Channel.PRIVATE)
    assert elsewhere is not None and elsewhere.kind is Kind.UNKNOWN_COMMAND


def test_a_group_mention_without_a_question_explains_how(conversation: Conversation) -> None:
    reply = conversation.reply("  ", Channel.GROUP)
    assert reply is not None and reply.kind is Kind.HOW_TO_ASK


def test_a_limit_notices_once_then_stays_quiet(story: Story) -> None:
    limited = Conversation(story, questions_per_minute=5)
    kinds = [reply.kind if reply else None for reply in (limited.reply(EXAMPLE, Channel.PRIVATE, 7) for _ in range(8))]
    assert kinds == [Kind.ANSWER] * 5 + [Kind.SLOW_DOWN, None, None]
    other = limited.reply(EXAMPLE, Channel.PRIVATE, 8)
    assert other is not None and other.kind is Kind.ANSWER
    help_ = limited.reply("/help", Channel.PRIVATE, 7)  # commands cost no question
    assert help_ is not None and help_.kind is Kind.HELP


def test_quotes_carry_the_spans_of_the_question_words(conversation: Conversation) -> None:
    reply = conversation.answer(EXAMPLE, Channel.PRIVATE)
    assert reply.answer is not None
    for quote in reply.answer.quotes:
        marked = {quote.text[start:end].lower() for start, end in quote.matched}
        assert marked and marked <= {"russia", "russian", "need", "needs", "north", "korean", "korea", "artillery"}
    html = render_html(reply)[0]
    assert "<b>artillery</b>" in html
    assert "<b>" not in render_text(reply)


def storybot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "STORYBOT_CACHE_DIR": ""},
    )  # fmt: skip


def test_sources_and_version_on_the_command_line(tmp_path: Path) -> None:
    listed = storybot("sources", cwd=tmp_path)
    assert listed.returncode == 0 and re.search(r"^2\. Kim Jong Un: North Korea leader", listed.stdout, re.M)
    rows = [json.loads(line) for line in storybot("sources", "--json", cwd=tmp_path).stdout.splitlines()]
    assert [sorted(row) for row in rows] == [["doc_id", "paragraphs", "title"]] * 2
    assert all(row["paragraphs"] > 0 for row in rows)
    version = storybot("--version", cwd=tmp_path)
    assert version.returncode == 0 and re.fullmatch(r"storybot \d+\.\d+\.\d+\S*\n", version.stdout)
