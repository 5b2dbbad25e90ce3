"""Where the Telegram bot starts: the Application built with every handler, then long polling or a webhook."""

import asyncio
import logging
import signal
import weakref
from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.live import LiveCorpus
from bot.story import Story
from bot.telegram.delivery import StartupFailed, StoryBot, best_effort, flood_limiter
from bot.telegram.handlers import Handlers, on_error
from bot.telegram.webhook import webhook_server
from config import Settings

log = logging.getLogger("storybot.telegram")

# Updates of different chats are handled at once, up to this many.
CONCURRENT_UPDATES = 64

# The application as built here: PTB's default context, no persistence.
App = Application[Any, Any, Any, Any, Any, Any]


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


async def register_commands(application: App) -> None:
    commands = [
        BotCommand("ask", "ask a question about the story"),
        BotCommand("sources", "the articles I quote from"),
        BotCommand("new", "forget our conversation and start afresh"),
        BotCommand("help", "how to ask"),
        BotCommand("start", "what I am for"),
    ]
    await best_effort(application.bot.set_my_commands(commands), "setMyCommands")


def build_application(settings: Settings, story: Story, live: LiveCorpus | None = None) -> App:
    """The PTB Application with every handler; the caller decides between polling and a webhook. A live corpus is
    followed from PTB's post_init to its post_shutdown (both run by run_polling; a webhook calls them itself)."""

    async def started(application: App) -> None:
        await register_commands(application)
        if live is not None:
            await live.start()

    async def stopped(application: App) -> None:
        if live is not None:
            await live.stop()

    assert settings.telegram_token is not None
    bot = StoryBot(
        token=settings.telegram_token.get_secret_value(),
        base_url=settings.telegram_base_url,
        rate_limiter=flood_limiter() if settings.flood_limit else None,
        start_timeout=settings.start_timeout,
    )
    application = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(ChatOrder(CONCURRENT_UPDATES))
        .post_init(started)
        .post_shutdown(stopped)
        .build()
    )
    handlers = Handlers(story, settings)
    # An edit of a message already answered is not a new question: edits are ignored, commands included.
    new = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new
    application.add_handler(TypeHandler(Update, handlers.guard), group=-1)
    application.add_handler(CommandHandler([*handlers.conversation.commands, "ask"], handlers.addressed, filters=new))
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.addressed))
    application.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.private_other))
    groups = filters.ChatType.GROUPS & new & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(groups, handlers.group_text))
    application.add_handler(CallbackQueryHandler(handlers.paragraph_button))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_error_handler(on_error)
    return application


def run_bot(settings: Settings, story: Story) -> None:
    """Serve Telegram until stopped: long polling, or a webhook server when a webhook URL is set.

    Raises StartupFailed when the Bot API stays unusable at start or the webhook port cannot be had.
    """
    live = LiveCorpus(story) if settings.watch_corpus else None
    application = build_application(settings, story, live)
    log.info("serving %s: %d documents, %d passages", story.source, len(story.index.sources), len(story.index))
    if settings.webhook_url is None:
        log.info("long polling %s", settings.telegram_base_url)
        application.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    asyncio.run(_serve_webhook(application, settings))


async def _serve_webhook(application: App, settings: Settings) -> None:
    """PTB's application lifecycle around the webhook server of webhook.py, until SIGINT or SIGTERM."""
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
            assert application.post_init is not None and application.post_shutdown is not None
            await application.post_init(application)  # the bot's commands registered, a live corpus followed
            try:
                await application.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
                await application.start()
                await stopping.wait()
                server.stop()  # no new updates; those already queued are answered before stop() returns
                await application.stop()
            finally:
                await application.post_shutdown(application)
    finally:
        server.stop()
        await server.close_all_connections()
