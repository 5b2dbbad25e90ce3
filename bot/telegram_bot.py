"""The Telegram channel: python-telegram-bot handlers that put the answering core in chats."""

import asyncio
import functools
import hashlib
import logging
import random
import re
import weakref
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
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
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
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
from bot.limits import QuestionLimit, Verdict
from bot.render_html import MESSAGE_LIMIT, render_answer, render_paragraph, render_text
from bot.render_text import render_answer as render_plain
from bot.story import Story
from config import Settings
from retrieval.answer import Answer, answer

log = logging.getLogger("storybot.telegram")

PARAGRAPH_BUTTON = "para"  # callback data: para:<document key>:<paragraph number>
# A send is tried this often, waiting twice as long each time from FIRST_BACKOFF (or as long as a
# 429 says), a little over half a minute in all: long enough for Telegram to recover from a hiccup,
# short enough that the answer is still wanted.
SEND_ATTEMPTS = 6
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 8.0
# Updates of different chats are handled at once, up to this many.
CONCURRENT_UPDATES = 64


def document_key(doc_id: str) -> str:
    """A short, stable stand-in for a document id: callback data holds at most 64 bytes."""
    return hashlib.sha256(doc_id.encode()).hexdigest()[:12]


# The application as built here: PTB's default context, no persistence.
App = Application[Any, Any, Any, Any, Any, Any]


class StoryBot(ExtBot[Any]):
    """python-telegram-bot's bot, made to start on Bot API servers that lack the webhook methods.

    PTB calls deleteWebhook before polling and setWebhook before serving a webhook, and gives up
    on any error. A server (or emulator) that does not know the method should not keep the bot
    from serving, so such refusals are logged and passed over; network trouble is still retried.
    """

    async def _tolerated(self, call: Awaitable[bool], what: str) -> bool:
        try:
            return await call
        except (NetworkError, RetryAfter):
            raise  # PTB retries these; BadRequest (a NetworkError) is a bad URL or secret and must stop the start
        except TelegramError as error:
            log.warning("%s failed (%s); going on without it", what, error)
            return False

    async def delete_webhook(self, *args: Any, **kwargs: Any) -> bool:
        return await self._tolerated(super().delete_webhook(*args, **kwargs), "deleteWebhook")

    async def set_webhook(self, *args: Any, **kwargs: Any) -> bool:
        return await self._tolerated(super().set_webhook(*args, **kwargs), "setWebhook")


async def best_effort(call: Awaitable[Any], what: str) -> None:
    """A courtesy call (typing indicator, command menu) whose failure must not cost an answer."""
    try:
        await call
    except TelegramError as error:
        log.info("%s failed: %s", what, error)


async def send_reliably(send: Callable[[], Awaitable[Message]], what: str) -> Message | None:
    """Send, retrying what may pass: a flood wait (429, for as long as Telegram asks), a server error (5xx), a
    timeout or a dropped connection. What still fails is logged once; None then."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await send()
        except BadRequest:
            raise  # the server read the request and refused it: sending it again changes nothing
        except (RetryAfter, TimedOut, NetworkError) as error:
            if attempt == SEND_ATTEMPTS:
                log.error("%s not delivered after %d attempts: %s", what, attempt, error)
                return None
            backoff = min(FIRST_BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF) * random.uniform(0.8, 1.2)
            await asyncio.sleep(_seconds(error.retry_after) if isinstance(error, RetryAfter) else backoff)
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
        self.limit = QuestionLimit(questions_per_minute)
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
        name, _ = parse_command(text) or ("", "")
        await self._send(message, render_text(COMMANDS[name](self.story)), what=f"/{name}")

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
        mentioned = any(
            entity.type == MessageEntity.MENTION and text.lower() == mention
            for entity, text in message.parse_entities([MessageEntity.MENTION]).items()
        )
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
        _, key, number = [*(query.data or "").split(":"), "", "", ""][:3]
        doc_id = self.doc_ids.get(key)
        passage = self.story.index.passage_at(doc_id, int(number)) if doc_id and number.isdigit() else None
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

    async def inline_query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        if query is None:
            return
        if not query.query.strip():
            await best_effort(query.answer([], cache_time=60), "answerInlineQuery")
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


def build_application(settings: Settings, story: Story) -> App:
    """The PTB Application with every handler; the caller decides between polling and a webhook."""
    assert settings.telegram_token is not None
    bot = StoryBot(
        token=settings.telegram_token.get_secret_value(),
        base_url=settings.telegram_base_url,
        # Keeps under Telegram's flood limits (30 messages a second, 20 a minute to a group);
        # the 429s that still come are retried by send_reliably.
        rate_limiter=AIORateLimiter(max_retries=0) if settings.flood_limit else None,
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
    application.add_handler(CommandHandler(list(COMMANDS), handlers.command))
    application.add_handler(CommandHandler("ask", handlers.ask_command))
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE  # edits are not new questions
    application.add_handler(MessageHandler(private & filters.COMMAND, handlers.unknown_command))
    application.add_handler(MessageHandler(private & filters.TEXT, handlers.private_text))
    application.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.private_other))
    application.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, handlers.group_text
        )
    )
    application.add_handler(CallbackQueryHandler(handlers.paragraph_button))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_error_handler(on_error)
    return application


def run_bot(settings: Settings, story: Story) -> None:
    """Serve Telegram until stopped: long polling, or PTB's webhook server when a webhook URL is set."""
    application = build_application(settings, story)
    log.info("serving %s: %d documents, %d passages", story.source, len(story.index.sources), len(story.index))
    if settings.webhook_url is None:
        log.info("long polling %s", settings.telegram_base_url)
        application.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    url = str(settings.webhook_url)
    path = urlsplit(url).path.lstrip("/")
    log.info("webhook server on %s:%d/%s for %s", settings.webhook_listen, settings.webhook_port, path, url)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    application.run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=path,
        webhook_url=url,
        secret_token=secret,
        allowed_updates=Update.ALL_TYPES,
    )


def _text_message(update: Update) -> tuple[Message, str]:
    """The message of an update that the handler's filters let through only with text."""
    message = update.effective_message
    if message is None or message.text is None:
        raise TypeError("a text handler was called without a text message")
    return message, message.text
