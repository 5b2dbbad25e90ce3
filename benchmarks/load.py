"""Many chats asking at once, through the fake Bot API: answers a second, latency, nothing lost.

usage: python benchmarks/load.py [--chats 100] [--questions 3]

The real python-telegram-bot Application polls tests/fake_bot_api.py on 127.0.0.1 and answers from
the bundled story, once with python-telegram-bot's flood limiter (AIORateLimiter, under Telegram's
30 messages a second) and once without. Latency is from the moment a question is queued at the
server to the moment its answer arrives there. Prints a Markdown table.
"""

import argparse
import asyncio
import logging
import statistics
import sys
import time
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.story import open_story
from bot.telegram.app import build_application
from config import Settings
from tests.fake_bot_api import TOKEN, FakeBotAPI, message_update

QUESTIONS = ["Who is Sergei Shoigu?", "What train does Kim use?", "Why might Russia need North Korean artillery?"]


async def run(chats: int, per_chat: int, flood_limit: bool) -> dict[str, float]:
    api = await FakeBotAPI().start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        telegram_token=SecretStr(TOKEN),
        telegram_base_url=api.base_url,
        flood_limit=flood_limit,
    )
    application = build_application(settings, open_story(None))
    updater = application.updater
    if updater is None:
        raise RuntimeError("the application was built without an updater")
    await application.initialize()
    await updater.start_polling(poll_interval=0, timeout=1)
    await application.start()
    asked: dict[int, list[float]] = {}
    start = time.monotonic()
    for n in range(per_chat):
        for chat in range(10_000, 10_000 + chats):
            api.push(message_update(QUESTIONS[n % len(QUESTIONS)], chat_id=chat))
            asked.setdefault(chat, []).append(time.monotonic())
    total = chats * per_chat
    try:
        await api.wait_for("sendMessage", count=total, timeout=600)
    finally:
        await updater.stop()
        await application.stop()
        await application.shutdown()
        await api.stop()
    answered = {
        chat: [c.at for c in api.calls if c.method == "sendMessage" and c.params["chat_id"] == chat] for chat in asked
    }
    latencies = sorted(a - q for chat in asked for q, a in zip(asked[chat], answered[chat], strict=True))
    last = max(at for times in answered.values() for at in times)
    sends = sorted(c.at for c in api.calls if c.method in ("sendMessage", "sendChatAction"))
    return {
        "calls_per_second": max(_in_window(sends, i, 1.0) for i in range(len(sends))),
        "chat_per_second": max(_in_window(times, i, 1.0) for times in answered.values() for i in range(len(times))),
        "answers": sum(map(len, answered.values())),
        "asked": total,
        "per_second": total / (last - start),
        "p50": statistics.median(latencies),
        "p95": latencies[int(0.95 * (len(latencies) - 1))],
        "max": latencies[-1],
    }


def _in_window(times: list[float], first: int, seconds: float) -> int:
    """How many of the sorted times fall in the `seconds` from times[first] on."""
    return sum(1 for at in times[first:] if at < times[first] + seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--questions", type=int, default=3, help="per chat, asked all at once")
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # the fake server's 404s for sendChatAction and its closing polls are not news
    print(
        "| flood limiter | questions | answered | answers a second | p50 latency (s) | p95 (s) | max (s) "
        "| most calls in a second | most answers to one chat in a second |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for flood_limit in (True, False):
        r = asyncio.run(run(args.chats, args.questions, flood_limit))
        print(
            f"| {'on' if flood_limit else 'off'} | {r['asked']} | {r['answers']} | {r['per_second']:.1f} "
            f"| {r['p50']:.2f} | {r['p95']:.2f} | {r['max']:.2f} | {r['calls_per_second']:.0f} "
            f"| {r['chat_per_second']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
