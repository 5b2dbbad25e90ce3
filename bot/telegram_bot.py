"""The Telegram channel: python-telegram-bot handlers that put the answering core in chats."""

import asyncio
import functools
import hashlib
import logging
import math
import random
import re
import signal
import sys
import time
import weakref
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import messages
from bot.commands import COMMANDS, parse_command
from bot.limits import RateLimit, Verdict
from bot.render_html import MESSAGE_LIMIT, render_answer, render_paragraph, render_text
from bot.render_text import render_answer as render_plain
from bot.story import Story
from bot.webhook import webhook_server
from config import Settings
from retrieval.answer import Answer, answer
from retrieval.index import Passage

log = logging.getLogger("storybot.telegram")
T = TypeVar("T")

PARAGRAPH_BUTTON = "para"  # callback data: para:<document key>:<paragraph number>
_PARAGRAPH_DATA = re.compile(rf"{PARAGRAPH_BUTTON}:([0-9a-f]{{12}}):([1-9][0-9]{{0,8}})", re.ASCII)
# A send is tried this often, waiting twice as long each time from FIRST_BACKOFF (or as long as a
# 429 says), a little over half a minute in all: long enough for Telegram to recover from a hiccup,
# short enough that the answer is still wanted.
SEND_ATTEMPTS = 6
# Button presses and inline queries, per person and minute: they cost an answer each, as questions do.
PRESSES_PER_MINUTE = 30
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 8.0
# Updates of different chats are handled at once, up to this many.
CONCURRENT_UPDATES = 64


def document_key(doc_id: str) -> str:
    """A short, stable stand-in for a document id: callback data holds at most 64 bytes."""
    return hashlib.sha256(doc_id.encode()).hexdigest()[:12]


# The application as built here: PTB's default context, no persistence.
App = Application[Any, Any, Any, Any, Any, Any]


class StartupFailed(Exception):
    """The Bot API could not be used at start, even after retrying; the message says why, in one line."""


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


async def best_effort(call: Awaitable[Any], what: str) -> None:
    """A courtesy call (typing indicator, command menu) whose failure must not cost an answer."""
    try:
        await call
    except TelegramError as error:
        log.info("%s failed: %s", what, error)


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


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


class ChatOrder(BaseUpdateProcessor):
    """Many chats answered at once, each chat's updates in the order they came: a reader's second
    question is not answered before the first."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._chats.get(chat.id)
        if lock is None:
            lock = self._chats[chat.id] = asyncio.Lock()
        async with lock:
            await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class Handlers:
    """Every update handler, bound to the story they answer from."""

    def __init__(self, story: Story, allowed_chats: frozenset[int] | None, questions_per_minute: int) -> None:
        self.story = story
        self.allowed_chats = allowed_chats
        self.limit = RateLimit(questions_per_minute)
        self.presses = RateLimit(PRESSES_PER_MINUTE)  # button presses and inline queries
        self.refused: set[int] = set()
        self.doc_ids = {document_key(source.doc_id): source.doc_id for source in story.index.sources}

    # -- access -------------------------------------------------------------------------------

    async def guard(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop updates from chats that may not use the bot; tell each such chat once."""
        if self.allowed_chats is None:
            return
        chat_id = update.effective_chat.id if update.effective_chat else None
        user_id = update.effective_user.id if update.effective_user else None
        if chat_id in self.allowed_chats or (chat_id is None and user_id in self.allowed_chats):
            return
        who = chat_id if chat_id is not None else user_id
        if update.callback_query:
            await best_effort(update.callback_query.answer(messages.not_allowed()), "answerCallbackQuery")
        elif update.inline_query:
            await best_effort(update.inline_query.answer([], cache_time=0, is_personal=True), "answerInlineQuery")
        elif update.effective_message and who is not None and who not in self.refused:
            self.refused.add(who)
            await self._send(update.effective_message, render_text(messages.not_allowed()), what="refusal")
        raise ApplicationHandlerStop

    # -- commands -----------------------------------------------------------------------------

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, text = _text_message(update)
        name, rest = parse_command(text) or ("", "")
        await self._send(message, render_text(COMMANDS[name](self.story, rest)), what=f"/{name}")

    async def ask_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, _ = _text_message(update)
        question = " ".join(context.args or [])
        if not question.strip():
            await self._send(message, render_text(messages.how_to_ask()), what="/ask")
            return
        await self._answer(message, question)

    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, text = _text_message(update)
        name, _ = parse_command(text) or ("", "")
        await self._send(message, render_text(messages.unknown_command(name)), what="reply")

    # -- questions ----------------------------------------------------------------------------

    async def private_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._answer(*_text_message(update))

    async def private_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None:
            await self._send(update.effective_message, render_text(messages.text_only()), what="hint")

    async def group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In groups, answer only a mention of the bot or a reply to one of its messages."""
        message, text = _text_message(update)
        mention = f"@{context.bot.username}".lower()
        mentioned = mention in _mentions(message)
        replied_to = message.reply_to_message.from_user if message.reply_to_message else None
        replied = replied_to is not None and replied_to.id == context.bot.id
        if not (mentioned or replied):
            return
        question = re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE).strip()
        if not question:
            await self._send(message, render_text(messages.how_to_ask()), what="hint")
            return
        await self._answer(message, question)

    async def paragraph_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        if not self._may_press(query.from_user.id):
            await best_effort(query.answer(messages.slow_down_presses()), "answerCallbackQuery")
            return
        passage = self._paragraph(query.data)
        if passage is None:
            await best_effort(query.answer(messages.stale_button(), show_alert=True), "answerCallbackQuery")
            return
        await best_effort(query.answer(), "answerCallbackQuery")
        pages = render_paragraph(passage.source.title, passage.paragraph, passage.text)
        if query.message is not None and query.message.chat is not None:
            chat_id = query.message.chat.id
            for page in pages:
                await send_reliably(
                    functools.partial(context.bot.send_message, chat_id, page, parse_mode=ParseMode.HTML), "paragraph"
                )

    def _paragraph(self, data: object) -> Passage | None:
        """The passage a button names; None for data this bot did not make, or made for an older story."""
        match = _PARAGRAPH_DATA.fullmatch(data) if isinstance(data, str) else None
        doc_id = self.doc_ids.get(match.group(1)) if match else None
        return self.story.index.passage_at(doc_id, int(match.group(2))) if match and doc_id else None

    def _may_press(self, person: int) -> bool:
        return self.presses.check(person) is Verdict.ASK

    async def inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        if query is None:
            return
        if not query.query.strip():
            await best_effort(query.answer([], cache_time=60), "answerInlineQuery")
            return
        if not self._may_press(query.from_user.id):  # nothing for now, and nothing kept for others
            await best_effort(query.answer([], cache_time=0, is_personal=True), "answerInlineQuery")
            return
        result = answer(self.story.index, query.query)
        pages = render_answer(result, self.story)
        description = result.quotes[0].text if result.quotes else messages.declined(result, self.story)
        article = InlineQueryResultArticle(
            id=hashlib.sha256(query.query.encode()).hexdigest()[:32],
            title=result.question[:200] or "StoryBot",
            description=description[:200],
            input_message_content=InputTextMessageContent(pages[0], parse_mode=ParseMode.HTML),
        )
        await best_effort(query.answer([article], cache_time=60), "answerInlineQuery")

    # -- sending ------------------------------------------------------------------------------

    async def _answer(self, message: Message, question: str) -> None:
        person = message.from_user.id if message.from_user else message.chat.id
        verdict = self.limit.check(person)
        if verdict is Verdict.NOTICE:
            notice = messages.slow_down(self.limit.wait_seconds(person))
            await self._send(message, render_text(notice), what="slow-down notice")
        if verdict is not Verdict.ASK:
            return
        await best_effort(message.chat.send_action(ChatAction.TYPING), "sendChatAction")
        result = answer(self.story.index, question)
        markup = self._paragraph_buttons(result)
        await self._send(message, render_answer(result, self.story), markup=markup, plain=result, what="answer")

    def _paragraph_buttons(self, result: Answer) -> InlineKeyboardMarkup | None:
        if not result.quotes:
            return None
        buttons = [
            InlineKeyboardButton(
                f"[{n}] whole paragraph", callback_data=f"{PARAGRAPH_BUTTON}:{document_key(q.doc_id)}:{q.paragraph}"
            )
            for n, q in enumerate(result.quotes, 1)
        ]
        return InlineKeyboardMarkup([[button] for button in buttons])

    async def _send(
        self,
        message: Message,
        pages: list[str],
        *,
        what: str,
        markup: InlineKeyboardMarkup | None = None,
        plain: Answer | None = None,
    ) -> None:
        """Pages as replies (in groups, to the asking message), the buttons under the last.

        Should a server refuse the HTML, an answer goes out once more as plain text.
        """
        in_group = message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        reply_to = ReplyParameters(message.message_id, allow_sending_without_reply=True) if in_group else None
        send = functools.partial(message.chat.send_message, reply_parameters=reply_to)
        try:
            for number, page in enumerate(pages, 1):
                keyboard = markup if number == len(pages) else None
                await send_reliably(
                    functools.partial(send, page, parse_mode=ParseMode.HTML, reply_markup=keyboard), what=what
                )
        except BadRequest as error:
            if plain is None:
                raise
            log.warning("the server refused an HTML %s (%s); sending it as plain text", what, error)
            await send_reliably(functools.partial(send, render_plain(plain, self.story)[:MESSAGE_LIMIT]), what=what)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log, tell the person in plain words (never the error itself), and carry on with the next update."""
    if update is None and isinstance(context.error, TelegramError):  # getUpdates failed; PTB polls again
        log.warning("getUpdates failed (%s); trying again", context.error)
        return
    log.error("update %s failed: %s", getattr(update, "update_id", "?"), context.error, exc_info=context.error)
    message = update.effective_message if isinstance(update, Update) else None
    if message is not None and message.chat is not None:
        await best_effort(message.chat.send_message(messages.something_went_wrong()), "error notice")


async def register_commands(application: App) -> None:
    commands = [
        BotCommand("ask", "ask a question about the story"),
        BotCommand("sources", "the articles I quote from"),
        BotCommand("help", "how to ask"),
        BotCommand("start", "what I am for"),
    ]
    await best_effort(application.bot.set_my_commands(commands), "setMyCommands")


def _flood_limiter() -> AIORateLimiter:
    """PTB's limiter paces calls under Telegram's flood limits (30 messages a second, 20 a minute to a group).

    Retrying is `retrying`'s alone, 429s included, so the limiter makes no retries; and the ERROR it logs
    for a 429 it hands on is dropped, because that message is still on its way: an ERROR line means a
    message that was not delivered.
    """
    logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_not_handed_on_429)
    return AIORateLimiter(max_retries=0)


def _not_handed_on_429(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Rate limit hit after maximum of 0 retries")


def build_application(settings: Settings, story: Story) -> App:
    """The PTB Application with every handler; the caller decides between polling and a webhook."""
    assert settings.telegram_token is not None
    bot = StoryBot(
        token=settings.telegram_token.get_secret_value(),
        base_url=settings.telegram_base_url,
        rate_limiter=_flood_limiter() if settings.flood_limit else None,
        start_timeout=settings.start_timeout,
    )
    application = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(ChatOrder(CONCURRENT_UPDATES))
        .post_init(register_commands)
        .build()
    )
    handlers = Handlers(story, settings.allowed_chats, settings.questions_per_minute)
    application.add_handler(TypeHandler(Update, handlers.guard), group=-1)
    # An edit of a message already answered is not a new question: edits are ignored, commands included.
    new = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler(list(COMMANDS), handlers.command, filters=new))
    application.add_handler(CommandHandler("ask", handlers.ask_command, filters=new))
    private = filters.ChatType.PRIVATE & new
    application.add_handler(MessageHandler(private & filters.COMMAND, handlers.unknown_command))
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.private_text))
    application.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.private_other))
    application.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & new & filters.TEXT & ~filters.COMMAND, handlers.group_text
        )
    )
    application.add_handler(CallbackQueryHandler(handlers.paragraph_button))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_error_handler(on_error)
    return application


def run_bot(settings: Settings, story: Story) -> None:
    """Serve Telegram until stopped: long polling, or a webhook server when a webhook URL is set.

    Raises StartupFailed when the Bot API stays unusable at start or the webhook port cannot be had.
    """
    application = build_application(settings, story)
    log.info("serving %s: %d documents, %d passages", story.source, len(story.index.sources), len(story.index))
    if settings.webhook_url is None:
        log.info("long polling %s", settings.telegram_base_url)
        application.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    asyncio.run(_serve_webhook(application, settings))


async def _serve_webhook(application: App, settings: Settings) -> None:
    """PTB's application lifecycle around the webhook server of bot.webhook, until SIGINT or SIGTERM."""
    url = str(settings.webhook_url)
    path = urlsplit(url).path
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    server = webhook_server(application.bot, application.update_queue, path, secret)
    try:
        server.listen(settings.webhook_port, address=settings.webhook_listen)
    except OSError as error:
        where = f"{settings.webhook_listen}:{settings.webhook_port}"
        raise StartupFailed(f"the webhook server cannot listen on {where}: {error.strerror or error}") from None
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stopping.set)
    log.info("webhook server on %s:%d%s for %s", settings.webhook_listen, settings.webhook_port, path, url)
    try:
        async with application:
            await register_commands(application)
            await application.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
            await application.start()
            await stopping.wait()
            server.stop()  # no new updates; those already queued are answered before stop() returns
            await application.stop()
    finally:
        server.stop()
        await server.close_all_connections()


def _mentions(message: Message) -> set[str]:
    """The @usernames a message mentions, lower-cased, by PTB's entity parsing (offsets in UTF-16 units).

    Offsets that do not fall on characters (a client that counts otherwise) are read from the text instead."""
    try:
        return {text.lower() for text in message.parse_entities([MessageEntity.MENTION]).values()}
    except (UnicodeDecodeError, IndexError, ValueError):
        return {name.lower() for name in re.findall(r"(?<!\w)@\w+", message.text or "")}


def _text_message(update: Update) -> tuple[Message, str]:
    """The message of an update that the handler's filters let through only with text."""
    message = update.effective_message
    if message is None or message.text is None:
        raise TypeError("a text handler was called without a text message")
    return message, message.text
