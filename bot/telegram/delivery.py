"""Getting calls through to the Bot API: one retry mechanism for sends and start-up calls alike, courtesy
calls that may fail, and pages sent as replies."""

import asyncio
import functools
import logging
import math
import random
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from retrieval import StoryBotError

log = logging.getLogger("storybot.telegram")
T = TypeVar("T")

# A send is tried this often, waiting twice as long each time from FIRST_BACKOFF (or as long as a
# 429 says), a little over half a minute in all: long enough for Telegram to recover from a hiccup,
# short enough that the answer is still wanted.
SEND_ATTEMPTS = 6
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 8.0


class StartupFailed(StoryBotError):
    """The Bot API (or the webhook's port) could not be used at start, even after retrying: configured right,
    but failed here and now."""

    exit_status = 1


def _transient(error: TelegramError) -> bool:
    """A flood wait, a server error (5xx), a timeout or a dropped connection: trying again may pass.

    BadRequest is a NetworkError in PTB, but the server read that request and refused it."""
    return isinstance(error, RetryAfter | NetworkError) and not isinstance(error, BadRequest)


async def retrying(call: Callable[[], Awaitable[T]], attempts: int, within: float = math.inf) -> T:
    """The one retry mechanism: call until it passes, waiting twice as long each time from FIRST_BACKOFF
    (or as long as a 429 says). What is not transient is raised at once; what still fails after `attempts`
    tries, or when the next wait would end past `within` seconds, is raised then."""
    deadline = time.monotonic() + within
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except TelegramError as error:
            backoff = min(FIRST_BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF) * random.uniform(0.8, 1.2)
            wait = _seconds(error.retry_after) if isinstance(error, RetryAfter) else backoff
            if not _transient(error) or attempt == attempts or time.monotonic() + wait > deadline:
                raise
            await asyncio.sleep(wait)
    raise ValueError("attempts must be at least 1")


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


async def send_reliably(send: Callable[[], Awaitable[Message]], what: str) -> Message | None:
    """Send, retrying what may pass; what still fails is logged once, as the one ERROR line of a message
    not delivered, and None is returned. A refused request (BadRequest) is raised: sending it again
    changes nothing."""
    try:
        return await retrying(send, SEND_ATTEMPTS)
    except TelegramError as error:
        if not _transient(error):
            raise
        log.error("%s not delivered after %d attempts: %s", what, SEND_ATTEMPTS, error)
        return None


async def best_effort(call: Awaitable[Any], what: str) -> None:
    """A courtesy call (typing indicator, command menu) whose failure must not cost an answer."""
    try:
        await call
    except TelegramError as error:
        log.info("%s failed: %s", what, error)


async def send_pages(
    message: Message, pages: list[str], *, what: str, markup: InlineKeyboardMarkup | None = None, plain: str = ""
) -> list[Message]:
    """Pages of HTML as replies (in groups, to the asking message), the buttons under the last; the messages
    that arrived.

    Should a server refuse the HTML, `plain` (if any) goes out once more as plain text.
    """
    in_group = message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
    reply_to = ReplyParameters(message.message_id, allow_sending_without_reply=True) if in_group else None
    send = functools.partial(message.chat.send_message, reply_parameters=reply_to)
    sent: list[Message | None] = []
    try:
        for number, page in enumerate(pages, 1):
            keyboard = markup if number == len(pages) else None
            html = functools.partial(send, page, parse_mode=ParseMode.HTML, reply_markup=keyboard)
            sent.append(await send_reliably(html, what))
    except BadRequest as error:
        if not plain:
            raise
        log.warning("the server refused an HTML %s (%s); sending it as plain text", what, error)
        sent.append(await send_reliably(functools.partial(send, plain), what=what))
    return [m for m in sent if m is not None]


class StoryBot(ExtBot[Any]):
    """python-telegram-bot's bot, made to start against a flaky Bot API or one that lacks the webhook methods.

    Start-up calls are retried on transient faults rather than ending the bot at the first 500. PTB
    calls deleteWebhook before polling and gives up on any error; a server (or emulator) that does not
    know the method should not keep the bot from serving, so such refusals are logged and passed over.
    """

    def __init__(self, *args: Any, start_timeout: float = 60.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._start_timeout = start_timeout  # seconds; STORYBOT_START_TIMEOUT (PTB freezes public attributes)

    async def get_me(self, *args: Any, **kwargs: Any) -> Any:
        return await self._at_start(lambda: super(StoryBot, self).get_me(*args, **kwargs), "getMe")

    async def delete_webhook(self, *args: Any, **kwargs: Any) -> bool:
        return await self._tolerated(lambda: super(StoryBot, self).delete_webhook(*args, **kwargs), "deleteWebhook")

    async def set_webhook(self, *args: Any, **kwargs: Any) -> bool:
        return await self._tolerated(lambda: super(StoryBot, self).set_webhook(*args, **kwargs), "setWebhook")

    async def _tolerated(self, call: Callable[[], Awaitable[bool]], what: str) -> bool:
        try:
            return await self._at_start(call, what)
        except BadRequest:
            raise  # a bad URL or secret: serving without it would serve nobody
        except TelegramError as error:  # the method is unknown to this server
            log.warning("%s failed (%s); going on without it", what, error)
            return False

    async def _at_start(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """Retried for up to `start_timeout` seconds: a bot that gives up at the first 500 serves nobody."""
        try:
            return await retrying(call, attempts=sys.maxsize, within=self._start_timeout)
        except TelegramError as error:
            if _transient(error):
                raise StartupFailed(
                    f"the Bot API at {self.base_url.split('/bot')[0]} still fails after "
                    f"{self._start_timeout:g} s ({what}: {error})"
                ) from None
            raise


def flood_limiter() -> AIORateLimiter:
    """PTB's limiter paces calls under Telegram's flood limits (30 messages a second, 20 a minute to a group).

    Retrying is `retrying`'s alone, 429s included, so the limiter makes no retries; and the ERROR it logs
    for a 429 it hands on is dropped, because that message is still on its way: an ERROR line means a
    message that was not delivered.
    """
    logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_not_handed_on_429)
    return AIORateLimiter(max_retries=0)


def _not_handed_on_429(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Rate limit hit after maximum of 0 retries")
