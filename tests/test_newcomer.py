"""A newcomer's and an operator's first hour: prompts, batch output, a log line a question, a busy bot."""

import logging
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from bot.story import Story
from tests.fake_bot_api import GROUP_CHAT, PRIVATE_CHAT, FakeBotAPI, message_update
from tests.test_telegram import EXAMPLE, start_bot, stop_bot


def test_ask_on_a_terminal_prompts_for_each_question(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    env = {**os.environ, "STORYBOT_CACHE_DIR": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask"], stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    os.close(follower)
    os.write(leader, b"Who is Sergei Shoigu?\n\x04")  # a question, then Ctrl-D
    out, _ = process.communicate(timeout=120)
    os.close(leader)
    assert process.returncode == 0
    assert out.decode().startswith("Question: ") and "Shoigu" in out.decode()


def test_batch_output_repeats_each_question(tmp_path: Path) -> None:
    questions = "Who is Sergei Shoigu?\n\nWho wrote Hamlet?\n"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask"], input=questions, capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "STORYBOT_CACHE_DIR": ""}, timeout=120,
    )  # fmt: skip
    blocks = [line for line in done.stdout.splitlines() if line.startswith("Q: ")]
    assert blocks == ["Q: Who is Sergei Shoigu?", "Q: Who wrote Hamlet?"]
    assert done.stdout.index("Shoigu,") < done.stdout.index("Q: Who wrote Hamlet?")


@pytest.mark.parametrize("opted_in", [False, True])
async def test_one_info_line_a_question(
    api: FakeBotAPI, story: Story, caplog: pytest.LogCaptureFixture, opted_in: bool
) -> None:
    application = await start_bot(api, story, log_questions=opted_in)
    try:
        with caplog.at_level(logging.INFO, logger="storybot"):
            api.push(message_update(EXAMPLE))
            api.push(message_update(f"/ask {EXAMPLE}", chat_id=GROUP_CHAT))
            api.push(message_update("/help"))
            await api.wait_for("sendMessage", count=2, chat_id=PRIVATE_CHAT)
            await api.wait_for("sendMessage", chat_id=GROUP_CHAT)
    finally:
        await stop_bot(application)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("question in")]
    assert sorted(line.split(":")[0] for line in lines) == ["question in a group chat", "question in a private chat"]
    assert all(": answer, 3 quotes, " in line and line.endswith((" ms", "?'")) for line in lines)
    assert all((EXAMPLE in line and "from 42" in line) is opted_in for line in lines)


async def test_a_busy_bot_spends_no_calls_on_typing_indicators(api: FakeBotAPI, story: Story) -> None:
    chats = range(5001, 5041)
    for chat in chats:  # all waiting before the bot starts: the first poll brings a queue
        api.push(message_update("Who is Sergei Shoigu?", chat_id=chat))
    application = await start_bot(api, story)
    try:
        await api.wait_for("sendMessage", count=len(chats))
    finally:
        await stop_bot(application)
    assert len(api.sent("sendChatAction")) < len(chats) // 2
