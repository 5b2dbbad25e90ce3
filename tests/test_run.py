"""`python -m bot run` as a process: polling and webhook, the token kept out of every output."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from tests.fake_bot_api import PRIVATE_CHAT, TOKEN, FakeBotAPI, message_update

EXAMPLE = "Why might Russia need North Korean artillery?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start(cwd: Path, **settings: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_")}
    env.update({f"STORYBOT_{name.upper()}": value for name, value in settings.items()})
    env.setdefault("STORYBOT_CACHE_DIR", str(cwd / ".storybot-cache"))
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=cwd, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode, out.decode() + err.decode()


async def test_polling_answers_and_never_logs_the_token(api: FakeBotAPI, tmp_path: Path) -> None:
    process = await start(tmp_path, telegram_token=TOKEN, telegram_base_url=api.base_url, log_level="DEBUG")
    try:
        api.push(message_update(EXAMPLE))
        (sent,) = await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT, timeout=60)
    finally:
        status, output = await stop(process)
    assert "limited stockpiles" in sent["text"]
    assert status == 0, output
    assert "serving" in output and "2 documents" in output and "long polling" in output
    assert "[REDACTED]" in output  # httpx logged request URLs at DEBUG, and the token was blotted out
    assert TOKEN not in output and TOKEN.split(":")[1] not in output


async def test_webhook_mode_checks_the_secret(api: FakeBotAPI, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/storybot-hook"  # what the HTTPS proxy in front of the bot forwards to
    process = await start(
        tmp_path, telegram_token=TOKEN, telegram_base_url=api.base_url, webhook_url="https://bot.example.org/storybot-hook",
        webhook_listen="127.0.0.1", webhook_port=str(port), webhook_secret="s3cret-Token",
    )  # fmt: skip
    try:
        update = {"update_id": 1, **message_update(EXAMPLE)}
        async with httpx.AsyncClient() as client:
            for _ in range(200):  # until the server listens
                try:
                    forged = await client.post(url, json=update)
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
            genuine = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token"})
        (sent,) = await api.wait_for("sendMessage", chat_id=PRIVATE_CHAT, timeout=30)
    finally:
        status, output = await stop(process)
    assert forged.status_code == 403 and genuine.status_code == 200
    assert "limited stockpiles" in sent["text"]
    assert status == 0, output
    assert "webhook server on 127.0.0.1" in output
    assert TOKEN not in output and "s3cret-Token" not in output


async def test_a_refused_token_is_a_one_line_error(api: FakeBotAPI, tmp_path: Path) -> None:
    process = await start(tmp_path, telegram_token="999:wrong", telegram_base_url=api.base_url)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert err.decode().strip().splitlines()[-1].startswith("storybot: error: the Bot API refused the token")
    assert "Traceback" not in err.decode() and "999:wrong" not in err.decode()


async def test_no_token_is_a_one_line_error(tmp_path: Path) -> None:
    process = await start(tmp_path)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert err.decode().strip() == (
        "storybot: error: STORYBOT_TELEGRAM_TOKEN is not set: get a token from @BotFather and export it"
    )


# Three questions whose answers are told apart by a word each.
QUESTIONS = {"Who is Sergei Shoigu?": "Shoigu", "What is the Hwasong?": "Hwasong", "What train does Kim use?": "train"}


def answered(api: FakeBotAPI, chat_id: int) -> set[str]:
    texts = [m["text"] for m in api.sent("sendMessage", chat_id=chat_id)]
    return {question for question, word in QUESTIONS.items() if any(word in text for text in texts)}


async def test_every_answer_arrives_while_a_fifth_of_all_calls_fail(tmp_path: Path) -> None:
    api = await FakeBotAPI(chaos=0.2, chaos_seed=2026).start()
    chats = range(1001, 1021)
    process = await start(tmp_path, telegram_token=TOKEN, telegram_base_url=api.base_url)
    try:
        for question in QUESTIONS:
            for chat in chats:
                api.push(message_update(question, chat_id=chat))
        deadline = asyncio.get_running_loop().time() + 120
        while any(answered(api, chat) != set(QUESTIONS) for chat in chats):
            assert process.returncode is None, "the bot stopped"
            assert asyncio.get_running_loop().time() < deadline, {c: answered(api, c) for c in chats}
            await asyncio.sleep(0.2)
    finally:
        status, output = await stop(process)
        await api.stop()
    kinds = {fault.split()[1] for fault in api.faults}
    assert kinds == {"429", "500", "502", "503", "drop"}, api.faults
    assert sum(fault.startswith("sendMessage") for fault in api.faults) >= 5
    assert status == 0, output
    assert "Traceback" not in output and TOKEN not in output


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_stopping_loses_no_acknowledged_update(api: FakeBotAPI, tmp_path: Path, stop_signal: int) -> None:
    process = await start(tmp_path, telegram_token=TOKEN, telegram_base_url=api.base_url)
    chats = range(2001, 2031)
    try:
        await api.wait_for("getUpdates", timeout=60)
        for chat in chats:
            api.push(message_update("Who is Sergei Shoigu?", chat_id=chat))
        await api.wait_for("sendMessage", timeout=60)  # answering has begun: stop in the middle of it
    finally:
        process.send_signal(stop_signal)
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    acknowledged = [chat for update_id, chat in enumerate(chats, 1) if update_id < api.acknowledged]
    assert acknowledged, "the bot acknowledged no update before stopping"
    assert all(api.sent("sendMessage", chat_id=chat) for chat in acknowledged)
    # The rest stay with Telegram for the next start, as a fresh getUpdates shows.
    waiting = [u["update_id"] for u in api.updates if u["update_id"] >= api.acknowledged]
    assert waiting == list(range(api.acknowledged, len(chats) + 1))
