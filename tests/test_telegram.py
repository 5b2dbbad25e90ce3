"""The Telegram bot end to end: the real PTB Application over real HTTP against a fake Bot API."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

from bot import conversation
from bot.story import Story, open_story
from bot.telegram import delivery, handlers
from bot.telegram.app import build_application
from config import Settings
from tests.fake_bot_api import (
    BOT_ID,
    GROUP_CHAT,
    PRIVATE_CHAT,
    TOKEN,
    USER,
    USERNAME,
    FakeBotAPI,
    message_update,
    parse_telegram_html,
)

EXAMPLE = "Why might Russia need North Korean artillery?"


async def start_bot(api: FakeBotAPI, story: Story, **settings: object) -> Application:
    config = Settings(_env_file=None, telegram_token=TOKEN, telegram_base_url=api.base_url, **settings)
    application = build_application(config, story)
    await application.initialize()
    await application.post_init(application)
    await application.updater.start_polling(poll_interval=0, timeout=1)
    await application.start()
    return application


async def stop_bot(application: Application) -> None:
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
async def bot(api: FakeBotAPI, story: Story) -> AsyncIterator[Application]:
    application = await start_bot(api, story)
    yield application
    await stop_bot(application)


def bot_message(message_id: int = 555, chat_id: int = GROUP_CHAT) -> dict:
    return {
        "message_id": message_id,
        "date": 0,
        "chat": {"id": chat_id, "type": "supergroup", "title": "Readers"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Story", "username": USERNAME},
        "text": "earlier",
    }


async def test_a_private_question_gets_quotes_citations_and_buttons(api: FakeBotAPI, bot: Application) -> None:
    api.push(message_update(EXAMPLE))
    (sent,) = await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT)
    assert sent["parse_mode"] == "HTML"
    text = sent["text"]
    assert text.count("<blockquote>") >= 2 and "limited stockpiles" in text and "<b>artillery</b>" in text
    assert "<i>Kim Jong Un: North Korea leader appears headed to Russia to meet Putin</i>, paragraph 15" in text
    buttons = [row[0] for row in sent["reply_markup"]["inline_keyboard"]]
    assert len(buttons) == text.count("<blockquote>")
    assert all(b["callback_data"].startswith("para:") and len(b["callback_data"].encode()) <= 64 for b in buttons)
    assert "reply_parameters" not in sent  # private chats need no reply threading


async def test_unsupported_courtesy_methods_do_not_stop_an_answer(api: FakeBotAPI, bot: Application) -> None:
    api.push(message_update("Who is Sergei Shoigu?"))
    await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT)
    methods = {call.method for call in api.calls}
    assert {"deleteWebhook", "setMyCommands", "sendChatAction"} <= methods  # all answered 404 by the fake


@pytest.mark.parametrize(
    "update",
    [
        message_update(f"/ask {EXAMPLE}", chat_id=GROUP_CHAT),
        message_update(f"/ask@{USERNAME} {EXAMPLE}", chat_id=GROUP_CHAT),
        message_update(f"@{USERNAME} {EXAMPLE}", chat_id=GROUP_CHAT),
        message_update(f"hey @{USERNAME.lower()}, {EXAMPLE}", chat_id=GROUP_CHAT),
        message_update(EXAMPLE, chat_id=GROUP_CHAT, reply_to=bot_message()),
    ],
    ids=["ask", "ask@bot", "mention", "mention-inside", "reply-to-bot"],
)
async def test_group_questions_are_answered_in_reply(api: FakeBotAPI, bot: Application, update: dict) -> None:
    api.push(update)
    (sent,) = await api.wait_for("sendMessage", chat_id=GROUP_CHAT)
    assert "limited stockpiles" in sent["text"]
    assert sent["reply_parameters"]["message_id"] == update["message"]["message_id"]


async def test_group_chatter_is_ignored(api: FakeBotAPI, bot: Application) -> None:
    other_user_message = {**bot_message(), "from": {"id": 7, "is_bot": False, "first_name": "Bob"}}
    for update in (
        message_update("Anyone read the news about Kim's train?", chat_id=GROUP_CHAT),
        message_update(f"/ask@OtherBot {EXAMPLE}", chat_id=GROUP_CHAT),
        message_update("@someone_else why the artillery?", chat_id=GROUP_CHAT),
        message_update(EXAMPLE, chat_id=GROUP_CHAT, reply_to=other_user_message),
        message_update("/frobnicate", chat_id=GROUP_CHAT),
    ):
        api.push(update)
    api.push(message_update("Who is Sergei Shoigu?"))  # answered only after all of the above were read
    await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT)
    assert api.sent("sendMessage", chat_id=GROUP_CHAT) == []


async def test_ask_without_a_question_explains_how(api: FakeBotAPI, bot: Application) -> None:
    api.push(message_update("/ask", chat_id=GROUP_CHAT))
    (sent,) = await api.wait_for("sendMessage", chat_id=GROUP_CHAT)
    assert "/ask Why did Kim travel to Russia?" in sent["text"]


@pytest.mark.parametrize("chat_id", [PRIVATE_CHAT, GROUP_CHAT])
async def test_start_help_and_sources(api: FakeBotAPI, bot: Application, chat_id: int) -> None:
    for command in ("/start", "/help", f"/sources@{USERNAME}"):
        api.push(message_update(command, chat_id=chat_id))
    start, help_, sources = await api.wait_for("sendMessage", count=3, chat_id=chat_id)
    assert "Why might Russia need North Korean artillery?" in start["text"]
    assert "/sources – the articles I quote from" in help_["text"]
    assert "Kim Jong Un: North Korea leader appears headed to Russia to meet Putin" in sources["text"]
    assert api.rejected == []


async def test_unknown_commands_and_non_text_in_private(api: FakeBotAPI, bot: Application) -> None:
    api.push(message_update("/frobnicate"))
    photo = message_update("", photo=[{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}])
    del photo["message"]["text"]
    api.push(photo)
    unknown, hint = await api.wait_for("sendMessage", count=2, chat_id=PRIVATE_CHAT)
    assert "/frobnicate" in unknown["text"] and "only read text" in hint["text"]


async def test_a_button_shows_the_whole_paragraph(api: FakeBotAPI, bot: Application) -> None:
    api.push(message_update(EXAMPLE))
    (answer,) = await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT)
    quoted = answer["text"].split("<blockquote>")[1:]  # one button per quote, in order
    stockpiles = next(n for n, quote in enumerate(quoted) if "limited stockpiles" in quote)
    data = answer["reply_markup"]["inline_keyboard"][stockpiles][0]["callback_data"]
    message = {"message_id": 1000, "date": 0, "chat": {"id": PRIVATE_CHAT, "type": "private"}, "text": "answer"}
    api.push({"callback_query": {"id": "cb1", "from": USER, "chat_instance": "ci", "data": data, "message": message}})
    _, paragraph = await api.wait_for("sendMessage", count=2, chat_id=PRIVATE_CHAT)
    (pressed,) = await api.wait_for("answerCallbackQuery")
    assert pressed["callback_query_id"] == "cb1" and "text" not in pressed
    assert "paragraph 15" in paragraph["text"]
    assert "However, due to Korea, North’s secrecy" in paragraph["text"]


@pytest.mark.parametrize("data", ["para:000000000000:1", "para:nonsense", "something else", "para:x:99999"])
async def test_a_stale_or_forged_button_gets_a_polite_answer(api: FakeBotAPI, bot: Application, data: str) -> None:
    message = {"message_id": 1000, "date": 0, "chat": {"id": PRIVATE_CHAT, "type": "private"}, "text": "answer"}
    api.push({"callback_query": {"id": "cb2", "from": USER, "chat_instance": "ci", "data": data, "message": message}})
    (pressed,) = await api.wait_for("answerCallbackQuery")
    assert "expired" in pressed["text"]
    assert api.sent("sendMessage") == []


async def test_inline_mode_offers_the_answer(api: FakeBotAPI, bot: Application) -> None:
    api.push({"inline_query": {"id": "iq1", "from": USER, "query": EXAMPLE, "offset": ""}})
    (answered,) = await api.wait_for("answerInlineQuery")
    (result,) = answered["results"]
    assert result["type"] == "article" and result["input_message_content"]["parse_mode"] == "HTML"
    assert "limited stockpiles" in parse_telegram_html(result["input_message_content"]["message_text"])


async def test_hostile_questions_make_html_telegram_accepts(api: FakeBotAPI, bot: Application) -> None:
    questions = [
        '<b>Why</b> might Russia & "North Korea" need <script>artillery</script>?',
        "What train does Kim use? &amp; &lt; <<>> &#0; \x00 '\"",
        "</blockquote><a href='x'>Who is Sergei Shoigu?",
        "Who wrote <i>Hamlet</i> & why?",
    ]
    for question in questions:
        api.push(message_update(question))
    sent = await api.wait_for("sendMessage", count=len(questions), chat_id=PRIVATE_CHAT)
    assert api.rejected == []
    assert all(m["parse_mode"] == "HTML" for m in sent)
    assert "<script>" not in " ".join(m["text"] for m in sent)


async def test_long_answers_are_split_between_quotes(api: FakeBotAPI, tmp_path: Path) -> None:
    paragraphs = "\n\n".join(
        "The armored train rolled slowly through the long valley past "
        + " ".join(f"farm{n}x{i}" for i in range(700))
        + " at night."
        for n in range(1, 4)
    )
    (tmp_path / "long.txt").write_text(f"Slow trains\n\n{paragraphs}\n", encoding="utf-8")
    application = await start_bot(api, open_story(tmp_path))
    try:
        api.push(message_update("How slowly did the armored train roll through the valley?"))
        await api.wait_for("sendMessage", count=2, chat_id=PRIVATE_CHAT)
    finally:
        await stop_bot(application)
    sent = api.sent("sendMessage", chat_id=PRIVATE_CHAT)
    assert api.rejected == []
    assert all(len(m["text"]) <= 4096 for m in sent)
    for message in sent:  # every message holds whole quotes, each with its citation
        assert message["text"].count("<blockquote>") == message["text"].count("</blockquote>") >= 1
        assert message["text"].count("<blockquote>") == message["text"].count(", paragraph ")
    assert "reply_markup" in sent[-1] and all("reply_markup" not in m for m in sent[:-1])


@pytest.mark.parametrize("faults", [[429, 429], [500, 502], [503, "drop"], ["drop", "drop"], ["stall"]])
async def test_every_kind_of_fault_is_retried_until_the_answer_goes_through(
    api: FakeBotAPI, bot: Application, faults: list
) -> None:
    api.fail["sendMessage"] = list(faults)
    api.push(message_update(EXAMPLE))
    answers = await api.wait_for("sendMessage", count=len(faults) + 1, chat_id=PRIVATE_CHAT, timeout=30)
    assert api.faults == [f"sendMessage {fault}" for fault in faults]
    assert "limited stockpiles" in answers[-1]["text"]


async def test_a_send_that_keeps_failing_is_logged_once_and_the_bot_goes_on(
    api: FakeBotAPI, bot: Application, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(delivery, "FIRST_BACKOFF", 0.01)
    api.fail["sendMessage"] = [502] * delivery.SEND_ATTEMPTS
    api.push(message_update(EXAMPLE))
    await api.wait_for("sendMessage", count=delivery.SEND_ATTEMPTS, chat_id=PRIVATE_CHAT)
    api.push(message_update("Who is Sergei Shoigu?"))
    sent = await api.wait_for("sendMessage", count=delivery.SEND_ATTEMPTS + 1, chat_id=PRIVATE_CHAT)
    assert "Shoigu" in sent[-1]["text"]
    given_up = [r for r in caplog.records if "not delivered" in r.getMessage()]
    assert len(given_up) == 1 and given_up[0].levelname == "ERROR"
    assert f"after {delivery.SEND_ATTEMPTS} attempts" in given_up[0].getMessage()


async def test_one_chats_questions_are_answered_in_order(api: FakeBotAPI, bot: Application) -> None:
    questions = ["Who is Sergei Shoigu?", "What train does Kim use?", "What is the Hwasong?"]
    for question in questions:
        api.push(message_update(question))
    sent = await api.wait_for("sendMessage", count=3, chat_id=PRIVATE_CHAT)
    assert ["Shoigu" in sent[0]["text"], "train" in sent[1]["text"], "Hwasong" in sent[2]["text"]] == [True] * 3


async def test_a_person_asking_too_fast_is_told_once_then_ignored(api: FakeBotAPI, story: Story) -> None:
    application = await start_bot(api, story, questions_per_minute=5)
    try:
        for n in range(8):
            api.push(message_update(f"Who is Sergei Shoigu? ({n})"))
        api.push(message_update("Who is Sergei Shoigu?", chat_id=PRIVATE_CHAT + 1))
        await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT + 1)
        sent = await api.wait_for("sendMessage", count=6, chat_id=PRIVATE_CHAT)
    finally:
        await stop_bot(application)
    assert len(api.sent("sendMessage", chat_id=PRIVATE_CHAT)) == 6
    assert all("Shoigu" in m["text"] for m in sent[:5])
    assert "asking faster than I can keep up" in sent[5]["text"] and "seconds" in sent[5]["text"]


async def test_an_error_while_answering_is_apologised_for_without_internals(
    api: FakeBotAPI, bot: Application, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("internal detail /srv/storybot/index.npz")

    monkeypatch.setattr(conversation, "read_in_context", broken)
    api.push(message_update(EXAMPLE))
    (sent,) = await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT)
    assert "something went wrong" in sent["text"]
    assert "internal" not in sent["text"] and "RuntimeError" not in sent["text"]


async def test_only_allowed_chats_are_served(api: FakeBotAPI, story: Story) -> None:
    application = await start_bot(api, story, allowed_chats=frozenset({PRIVATE_CHAT}))
    try:
        api.push(message_update(f"/ask {EXAMPLE}", chat_id=GROUP_CHAT))
        api.push(message_update(f"/ask {EXAMPLE}", chat_id=GROUP_CHAT))
        api.push(message_update("Who is Sergei Shoigu?"))
        await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT)
    finally:
        await stop_bot(application)
    (refusal,) = api.sent("sendMessage", chat_id=GROUP_CHAT)
    assert "not open to this chat" in refusal["text"]


async def test_allowed_chats_are_honoured_by_buttons_and_inline_queries(api: FakeBotAPI, story: Story) -> None:
    stranger = {**USER, "id": 999}
    application = await start_bot(api, story, allowed_chats=frozenset({PRIVATE_CHAT}))
    try:
        message = {"message_id": 1000, "date": 0, "chat": {"id": 999, "type": "private"}, "text": "answer"}
        data = f"para:{handlers.document_key(story.index.sources[0].doc_id)}:1"
        api.push(
            {"callback_query": {"id": "cb9", "from": stranger, "chat_instance": "c", "data": data, "message": message}}
        )
        api.push({"inline_query": {"id": "iq9", "from": stranger, "query": EXAMPLE, "offset": ""}})
        (pressed,) = await api.wait_for("answerCallbackQuery")
        (inline,) = await api.wait_for("answerInlineQuery")
    finally:
        await stop_bot(application)
    assert "not open to this chat" in pressed["text"]
    assert inline["results"] == []
    assert api.sent("sendMessage") == []
