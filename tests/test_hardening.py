"""Faults a bot on the open internet meets: forged webhook calls, odd button data, emoji beside a mention,
edits, floods of presses, big stories, a flaky Bot API at start. Each was a real hole once."""

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from telegram.ext import Application, ExtBot

from bot.conversation import Channel, Conversation, sources
from bot.render_html import MESSAGE_LIMIT, render
from bot.story import Story, open_story
from bot.telegram import delivery
from bot.telegram.app import build_application
from bot.telegram.delivery import StartupFailed
from bot.telegram.handlers import PRESSES_PER_MINUTE
from bot.telegram.webhook import MAX_UPDATE_BYTES, SECRET_HEADER, webhook_server
from config import Settings, SettingsError, load_settings
from tests.fake_bot_api import GROUP_CHAT, PRIVATE_CHAT, TOKEN, USER, USERNAME, FakeBotAPI, message_update
from tests.test_run import free_port, start
from tests.test_telegram import EXAMPLE, start_bot, stop_bot

SECRET = "hook-Secret_1"
UPDATE = {"update_id": 7, **message_update(EXAMPLE)}


# -- the webhook: checked before it is read ----------------------------------------------------


@pytest.fixture
async def hook() -> AsyncIterator[tuple[int, asyncio.Queue[object]]]:
    """The webhook server alone on 127.0.0.1, with the queue its updates go to."""
    updates: asyncio.Queue[object] = asyncio.Queue()
    server = webhook_server(ExtBot(TOKEN), updates, "/hook", SECRET)
    port = free_port()
    server.listen(port, address="127.0.0.1")
    yield port, updates
    server.stop()
    await server.close_all_connections()


async def raw_post(port: int, headers: dict[str, str], body: bytes = b"") -> int:
    """The status of a POST whose headers may promise more body than is ever sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(f"POST /hook HTTP/1.1\r\nHost: bot\r\n{head}\r\n".encode() + body)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    return int(status_line.split()[1])


async def test_a_call_without_the_secret_is_refused_before_its_body_is_read(hook: tuple) -> None:
    port, updates = hook
    # 60 MB promised, none sent: the answer can only come from the headers.
    assert await raw_post(port, {"Content-Length": str(60 << 20)}) == 403
    assert await raw_post(port, {"Content-Length": str(60 << 20), SECRET_HEADER: "wrong"}) == 403
    assert updates.empty()


async def test_a_body_over_the_cap_is_refused_with_413(hook: tuple) -> None:
    port, updates = hook
    assert await raw_post(port, {"Content-Length": str(MAX_UPDATE_BYTES + 1), SECRET_HEADER: SECRET}) == 413
    chunk = b"x" * 65536
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(MAX_UPDATE_BYTES // len(chunk) + 2))
    headers = {"Transfer-Encoding": "chunked", SECRET_HEADER: SECRET}
    assert await raw_post(port, headers, chunked + b"0\r\n\r\n") == 413
    assert updates.empty()


async def test_a_genuine_update_is_queued_and_garbage_is_a_400(hook: tuple) -> None:
    port, updates = hook
    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}/hook"
        genuine = await client.post(url, json=UPDATE, headers={SECRET_HEADER: SECRET})
        garbage = await client.post(url, content=b"\xff{not json", headers={SECRET_HEADER: SECRET})
        other = await client.post(url, json=[1, 2], headers={SECRET_HEADER: SECRET})
    assert genuine.status_code == 200 and garbage.status_code == 400 and other.status_code == 400
    assert updates.qsize() == 1 and updates.get_nowait().update_id == 7  # type: ignore[attr-defined]


# -- settings and start: refused before anything listens ----------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STORYBOT_WEBHOOK_URL", "http://bot.example.org/hook"),
        ("STORYBOT_TELEGRAM_BASE_URL", "ftp://api.telegram.org/bot"),
        ("STORYBOT_TELEGRAM_BASE_URL", "api.telegram.org/bot"),
        ("STORYBOT_TELEGRAM_BASE_URL", "https://"),
    ],
)
def test_urls_telegram_cannot_use_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"^{name}: "):
        load_settings()


@pytest.mark.parametrize(("listen", "open_to_anyone"), [("0.0.0.0", True), ("::", True), ("127.0.0.1", False)])
def test_a_webhook_without_a_secret_is_open_only_on_loopback(listen: str, open_to_anyone: bool) -> None:
    settings = Settings(_env_file=None, webhook_url="https://bot.example.org/hook", webhook_listen=listen)
    assert settings.webhook_open_to_anyone() is open_to_anyone
    assert not settings.model_copy(update={"webhook_secret": SECRET}).webhook_open_to_anyone()


async def test_run_refuses_a_webhook_open_to_anyone(tmp_path: Path) -> None:
    process = await start(tmp_path, telegram_token=TOKEN, webhook_url="https://bot.example.org/hook")
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    (line,) = err.decode().strip().splitlines()
    assert line.startswith("storybot: error: STORYBOT_WEBHOOK_SECRET")


async def test_a_webhook_port_in_use_is_one_line_and_exit_1(api: FakeBotAPI, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await start(
            tmp_path, telegram_token=TOKEN, telegram_base_url=api.base_url, webhook_url="https://b.example.org/h",
            webhook_listen="127.0.0.1", webhook_port=str(port), webhook_secret=SECRET,
        )  # fmt: skip
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert err.decode().strip().splitlines()[-1].startswith("storybot: error: the webhook server cannot listen on")
    assert "Traceback" not in err.decode()


async def test_start_up_rides_out_a_flaky_bot_api(story: Story) -> None:
    api = await FakeBotAPI(fail={"getMe": [500, "drop", 502], "deleteWebhook": [503, 500]}).start()
    try:
        application = await start_bot(api, story)
        try:
            api.push(message_update(EXAMPLE))
            (sent,) = await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT, timeout=30)
        finally:
            await stop_bot(application)
    finally:
        await api.stop()
    assert "limited stockpiles" in sent["text"]
    assert api.faults[:3] == ["getMe 500", "getMe drop", "getMe 502"]


async def test_a_webhook_start_rides_out_a_failing_set_webhook(story: Story, tmp_path: Path) -> None:
    api = await FakeBotAPI(fail={"setWebhook": [500, 503]}).start()
    port = free_port()
    process = await start(
        tmp_path, telegram_token=TOKEN, telegram_base_url=api.base_url, webhook_url="https://b.example.org/hook",
        webhook_listen="127.0.0.1", webhook_port=str(port), webhook_secret=SECRET,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):  # until the server listens
                try:
                    posted = await client.post(
                        f"http://127.0.0.1:{port}/hook", json=UPDATE, headers={SECRET_HEADER: SECRET}
                    )
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
        await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT, timeout=30)
    finally:
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
        await api.stop()
    assert posted.status_code == 200
    assert api.faults == ["setWebhook 500", "setWebhook 503"] and len(api.sent_calls("setWebhook")) == 3
    assert process.returncode == 0, err.decode()


async def test_a_bot_api_that_stays_down_is_one_line_and_exit_1(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}/bot"  # nothing listens there
    process = await start(tmp_path, telegram_token=TOKEN, telegram_base_url=down, start_timeout="2")
    _, err = await asyncio.wait_for(process.communicate(), 60)
    text = err.decode()
    assert process.returncode == 1
    assert text.strip().splitlines()[-1].startswith("storybot: error: the Bot API at http://127.0.0.1:")
    assert "Traceback" not in text and "Network Retry Loop" not in text and TOKEN not in text


async def test_start_up_gives_up_after_its_time(api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "FIRST_BACKOFF", 0.01)
    api.fail["getMe"] = [500] * 1000
    config = Settings(_env_file=None, telegram_token=TOKEN, telegram_base_url=api.base_url, start_timeout=0.5)
    bot = build_application(config, open_story(None)).bot
    with pytest.raises(StartupFailed, match=r"still fails after 0.5 s \(getMe: "):
        await bot.initialize()
    assert 2 <= len(api.sent_calls("getMe")) < 1000


def bot_api(record: logging.LogRecord) -> bool:
    """A line the fake Bot API's own server logged, not the bot."""
    return record.name.startswith("tornado")


# -- one owner of retries: an ERROR line is a message not delivered -------------------------------


async def test_a_flood_wait_that_is_ridden_out_logs_no_error(
    api: FakeBotAPI, story: Story, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail["sendMessage"] = [429]
    application = await start_bot(api, story)  # the flood limiter is on by default
    try:
        with caplog.at_level(logging.INFO):
            api.push(message_update(EXAMPLE))
            await api.wait_for("sendMessage", count=2, chat_id=PRIVATE_CHAT)
    finally:
        await stop_bot(application)
    assert api.faults == ["sendMessage 429"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and not bot_api(r)] == []


# -- buttons, mentions, edits, presses ------------------------------------------------------------


@pytest.fixture
async def bot(api: FakeBotAPI, story: Story) -> AsyncIterator[Application]:
    application = await start_bot(api, story)
    yield application
    await stop_bot(application)


def press(data: str, query_id: str = "cb", user: dict | None = None) -> dict:
    message = {"message_id": 1000, "date": 0, "chat": {"id": PRIVATE_CHAT, "type": "private"}, "text": "answer"}
    query = {"id": query_id, "from": user or USER, "chat_instance": "ci", "data": data, "message": message}
    return {"callback_query": query}


@pytest.mark.parametrize(
    "data",
    ["²", "para:²", "para:" + "9" * 400, f"para:{'a' * 12}:{'9' * 400}", f"para:{'a' * 12}:²", "para:a:b", "", "\0"],
)
async def test_button_data_is_parsed_strictly(
    api: FakeBotAPI, bot: Application, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    api.push(message_update(EXAMPLE))
    (answer,) = await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT)
    real = answer["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    key = real.split(":")[1]
    forged = data.replace("a" * 12, key)
    with caplog.at_level(logging.INFO):
        api.push(press(forged))
        (pressed,) = await api.wait_for("answerCallbackQuery")
    assert "expired" in pressed["text"]
    assert len(api.sent("sendMessage")) == 1  # no apology, no paragraph
    assert [r.getMessage() for r in caplog.records if r.levelno > logging.INFO and not bot_api(r)] == []


@pytest.mark.parametrize(
    ("before", "after"),
    [("👋 ", ""), ("🇰🇵🇷🇺 hey ", " 🙏"), ("e\u0301\u0301 ", " n\u0303"), ("👨‍👩‍👧 ", "👍🏽"), ("", " 🇺🇦")],
    ids=["emoji", "flags", "combining", "zwj-family", "after-only"],
)
async def test_a_mention_among_emoji_is_answered(api: FakeBotAPI, bot: Application, before: str, after: str) -> None:
    api.push(message_update(f"{before}@{USERNAME}{after} {EXAMPLE}", chat_id=GROUP_CHAT))
    (sent,) = await api.wait_for("sendMessage", chat_id=GROUP_CHAT)
    assert "limited stockpiles" in sent["text"]


async def test_mention_offsets_that_miss_their_characters_are_read_from_the_text(
    api: FakeBotAPI, bot: Application
) -> None:
    update = message_update(f"👋👋 @{USERNAME} {EXAMPLE}", chat_id=GROUP_CHAT)
    update["message"]["entities"] = [{"type": "mention", "offset": 1, "length": 3}]  # the middle of an emoji
    api.push(update)
    (sent,) = await api.wait_for("sendMessage", chat_id=GROUP_CHAT)
    assert "limited stockpiles" in sent["text"]


@pytest.mark.parametrize("text", ["/help", f"/ask {EXAMPLE}", EXAMPLE, "/sources"])
async def test_an_edited_message_is_not_answered_again(api: FakeBotAPI, bot: Application, text: str) -> None:
    edited = message_update(text)
    api.push({"edited_message": {**edited["message"], "edit_date": 1}})
    api.push(message_update("/start"))
    (only,) = await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT)
    await asyncio.sleep(0.3)  # time for a wrong second reply to arrive
    assert len(api.sent("sendMessage")) == 1 and "Hello" in only["text"]


async def test_button_presses_have_a_budget_per_person(api: FakeBotAPI, bot: Application) -> None:
    api.push(message_update(EXAMPLE))
    (answer,) = await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT)
    data = answer["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    presses = PRESSES_PER_MINUTE + 10
    for n in range(presses):
        api.push(press(data, f"cb{n}"))
    pressed = await api.wait_for("answerCallbackQuery", count=presses)
    paragraphs = await api.wait_for("sendMessage", count=1 + PRESSES_PER_MINUTE, chat_id=PRIVATE_CHAT)
    await asyncio.sleep(0.3)
    assert len(api.sent("sendMessage")) == len(paragraphs) == 1 + PRESSES_PER_MINUTE
    assert sum("wait" in p.get("text", "") for p in pressed) == 10
    # Someone else still may.
    api.push(press(data, "other", {**USER, "id": 7}))
    await api.wait_for("sendMessage", count=2 + PRESSES_PER_MINUTE)


async def test_inline_queries_have_a_budget_per_person(api: FakeBotAPI, bot: Application) -> None:
    queries = PRESSES_PER_MINUTE + 5
    for n in range(queries):
        api.push({"inline_query": {"id": f"iq{n}", "from": USER, "query": f"{EXAMPLE} {n}", "offset": ""}})
    answered = await api.wait_for("answerInlineQuery", count=queries)
    assert sum(bool(a["results"]) for a in answered) == PRESSES_PER_MINUTE


# -- big stories: a reply names a few articles ------------------------------------------------------


@pytest.fixture(scope="module")
def big_story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    corpus = tmp_path_factory.mktemp("big")
    for n in range(4001):
        text = f"Report number {n} on the harbour\n\nThe harbour crane {n} was repaired.\n"
        (corpus / f"{n:04}.txt").write_text(text)
    return open_story(corpus)


@pytest.mark.parametrize("command", ["/start", "/help", "/sources", "/sources 201"])
def test_a_big_story_fits_in_one_message(big_story: Story, command: str) -> None:
    reply = Conversation(big_story).reply(command, Channel.PRIVATE)
    assert reply is not None
    pages = render(reply)
    assert len(pages) == 1 and len(pages[0]) <= MESSAGE_LIMIT


def test_a_decline_names_a_few_articles_of_a_big_story(big_story: Story) -> None:
    reply = Conversation(big_story).reply("Who wrote Hamlet?", Channel.PRIVATE)
    assert reply is not None and reply.answer is not None and not reply.answer.quotes
    assert "and 3,998 more articles (/sources lists them)" in reply.words and len(render(reply)) == 1


def test_sources_are_paged(big_story: Story) -> None:
    first, second, last = (sources(big_story, page) for page in ("", "2", "99999"))
    assert "1. Report number 0 " in first and "Page 1 of 201. Send /sources 2 for more." in first
    assert "21. Report number 20 " in second and "Page 2 of 201" in second
    assert "4001. Report number 4000 " in last and "Send /sources" not in last
    assert sources(big_story, "²") == first

