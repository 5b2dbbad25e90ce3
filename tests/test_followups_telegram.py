"""Follow-up questions in every channel: a private chat, a group's reply chain, the command line; never
mixed between chats, forgotten on /new."""

import json
import subprocess
import sys
from pathlib import Path

from bot.conversation import Channel, Conversation, Kind
from bot.story import Story
from tests.fake_bot_api import BOT_ID, GROUP_CHAT, USERNAME, FakeBotAPI, message_update, parse_telegram_html
from tests.test_telegram import start_bot, stop_bot

# A subject, then a question that names it only by a pronoun: the answer is in the train's paragraph.
SUBJECT = "What train does Kim Jong Un travel in?"
FOLLOW_UP = "how fast can it go?"
SPEED = "59 km"


def visible(sent: dict) -> str:
    return parse_telegram_html(sent["text"])


async def test_a_private_chat_follows_up_and_says_how_it_read_the_question(api: FakeBotAPI, story: Story) -> None:
    application = await start_bot(api, story)
    try:
        api.push(message_update(SUBJECT, chat_id=71))
        await api.wait_for("sendMessage", chat_id=71)
        api.push(message_update(FOLLOW_UP, chat_id=71))
        _, follow_up = await api.wait_for("sendMessage", count=2, chat_id=71)
    finally:
        await stop_bot(application)
    text = visible(follow_up)
    read_as, *rest = text.splitlines()
    assert read_as.startswith(f"Reading that as: {FOLLOW_UP} (about: ") and "Kim" in read_as
    first_quote = "\n".join(rest).split("[1]")[0]
    assert SPEED in first_quote


async def test_two_private_chats_interleaved_never_mix(api: FakeBotAPI, story: Story) -> None:
    application = await start_bot(api, story)
    try:
        api.push(message_update(SUBJECT, chat_id=81))
        api.push(message_update("Who is Sergei Shoigu?", chat_id=82))
        await api.wait_for("sendMessage", chat_id=81)
        await api.wait_for("sendMessage", chat_id=82)
        api.push(message_update(FOLLOW_UP, chat_id=82))  # chat 82 never spoke of a train
        api.push(message_update(FOLLOW_UP, chat_id=81))
        (_, about_train) = await api.wait_for("sendMessage", count=2, chat_id=81)
        (_, elsewhere) = await api.wait_for("sendMessage", count=2, chat_id=82)
    finally:
        await stop_bot(application)
    assert SPEED in visible(about_train)
    assert "train" not in visible(elsewhere).splitlines()[0].lower()


async def test_new_forgets_the_conversation(api: FakeBotAPI, story: Story) -> None:
    application = await start_bot(api, story)
    try:
        api.push(message_update(SUBJECT, chat_id=91))
        api.push(message_update("/new", chat_id=91))
        api.push(message_update(FOLLOW_UP, chat_id=91))
        _, forgotten, after = await api.wait_for("sendMessage", count=3, chat_id=91)
    finally:
        await stop_bot(application)
    assert "Forgotten" in visible(forgotten)
    assert not visible(after).startswith("Reading that as")


def bot_answer(message_id: int) -> dict:
    """The bot's message as a group member's reply would point at it."""
    return {
        "message_id": message_id, "date": 0, "chat": {"id": GROUP_CHAT, "type": "supergroup", "title": "R"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Story", "username": USERNAME}, "text": "answer",
    }  # fmt: skip


async def test_a_group_reply_chain_continues_and_a_mention_starts_afresh(api: FakeBotAPI, story: Story) -> None:
    application = await start_bot(api, story)
    try:
        api.push(message_update(f"/ask {SUBJECT}", chat_id=GROUP_CHAT))
        await api.wait_for("sendMessage", chat_id=GROUP_CHAT)
        (first,) = api.sent_calls("sendMessage", GROUP_CHAT)
        api.push(message_update(FOLLOW_UP, chat_id=GROUP_CHAT, reply_to=bot_answer(first.result["message_id"])))
        _, in_chain = await api.wait_for("sendMessage", count=2, chat_id=GROUP_CHAT)
        api.push(message_update(f"@{USERNAME} {FOLLOW_UP}", chat_id=GROUP_CHAT))
        _, _, fresh = await api.wait_for("sendMessage", count=3, chat_id=GROUP_CHAT)
    finally:
        await stop_bot(application)
    assert SPEED in visible(in_chain) and visible(in_chain).startswith("Reading that as: ")
    assert not visible(fresh).startswith("Reading that as")


def test_a_self_contained_question_reads_as_if_asked_alone(story: Story) -> None:
    conversation = Conversation(story)
    conversation.answer(SUBJECT, Channel.CONSOLE, "t")
    alone = conversation.answer("Who is Sergei Shoigu?", Channel.CONSOLE)
    in_chat = conversation.answer("Who is Sergei Shoigu?", Channel.CONSOLE, "t")
    assert in_chat.understood_as is None and in_chat.answer == alone.answer


def test_an_off_topic_question_is_declined_whatever_came_before(story: Story) -> None:
    conversation = Conversation(story)
    conversation.answer(SUBJECT, Channel.CONSOLE, "t")
    reply = conversation.answer("What is the best recipe for banana bread?", Channel.CONSOLE, "t")
    assert reply.kind is Kind.DECLINED


def test_ask_chat_reads_standard_input_as_one_chat(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--chat", "--json"], input=f"{SUBJECT}\n{FOLLOW_UP}\n",
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["understood_as"] is None and second["understood_as"]
    assert any(SPEED in quote["text"] for quote in second["quotes"])
    alone = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"], input=f"{SUBJECT}\n{FOLLOW_UP}\n",
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert all(json.loads(line)["understood_as"] is None for line in alone.stdout.splitlines())

