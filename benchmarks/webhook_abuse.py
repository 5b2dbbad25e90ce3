"""Large POSTs to the webhook without its secret: how much the bot grows, how soon each is refused.

usage: python benchmarks/webhook_abuse.py [--posts 10] [--megabytes 60]

`storybot run` serves a webhook on 127.0.0.1 against the fake Bot API of tests/, and a client posts
bodies of --megabytes each without the secret, sending the body for as long as the bot reads it.
Prints the bot's resident memory before and after, and how long each POST took to be answered.
"""

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_bot_api import TOKEN, FakeBotAPI

SECRET = "benchmark-secret"
CHUNK = b"x" * (1 << 16)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def refused_after(port: int, megabytes: int) -> tuple[float, str]:
    """Seconds until the bot answers a POST of `megabytes` without the secret, and its status line."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"POST /hook HTTP/1.1\r\nHost: bot\r\nContent-Length: {megabytes << 20}\r\n\r\n".encode())

    async def send_body() -> None:
        try:
            for _ in range((megabytes << 20) // len(CHUNK)):
                writer.write(CHUNK)
                await writer.drain()
        except ConnectionError:
            pass  # the bot closed the connection: it will read no more of this body

    sending = asyncio.create_task(send_body())
    try:
        status = (await asyncio.wait_for(reader.readline(), 60)).decode().strip() or "closed"
    except ConnectionError:  # the bot closed with the body unread, and the kernel reset the connection
        status = "reset"
    elapsed = time.perf_counter() - started
    sending.cancel()
    writer.close()
    return elapsed, status


async def main(posts: int, megabytes: int) -> None:
    api = await FakeBotAPI().start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_")}
    env.update(
        STORYBOT_TELEGRAM_TOKEN=TOKEN, STORYBOT_TELEGRAM_BASE_URL=api.base_url, STORYBOT_WEBHOOK_SECRET=SECRET,
        STORYBOT_WEBHOOK_URL="https://bot.example.org/hook", STORYBOT_WEBHOOK_LISTEN="127.0.0.1",
        STORYBOT_WEBHOOK_PORT=str(port), STORYBOT_LOG_LEVEL="WARNING",
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as cwd:
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL
        )
        try:
            await api.wait_for("setWebhook", timeout=60)
            await asyncio.sleep(0.5)
            before = rss_mb(bot.pid)
            timings = [await refused_after(port, megabytes) for _ in range(posts)]
            await asyncio.sleep(0.5)
            after = rss_mb(bot.pid)
        finally:
            bot.terminate()
            await bot.wait()
            await api.stop()
    statuses = sorted({status for _, status in timings})
    slowest = max(seconds for seconds, _ in timings)
    print(f"{posts} POSTs of {megabytes} MB without the secret: answered {', '.join(statuses)}")
    print(f"slowest answer {slowest * 1000:.1f} ms; bot RSS {before:.0f} MB before, {after:.0f} MB after")
    print(f"growth {after - before:+.1f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--megabytes", type=int, default=60)
    options = parser.parse_args()
    asyncio.run(main(options.posts, options.megabytes))
