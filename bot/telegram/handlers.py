"""Telegram updates to the conversation core and its replies back: where each update is routed."""

import hashlib
import logging
import re
import time
from collections.abc import Hashable

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import conversation as words
from bot.conversation import Channel, Conversation, Reply, parse_command
from bot.limits import RateLimit, Verdict
from bot.render_html import MESSAGE_LIMIT, render, render_paragraph, render_text
from bot.render_text import render as render_plain
from bot.story import Story
from bot.telegram.delivery import best_effort, send_pages
from config import Settings
from retrieval import Index, Passage

log = logging.getLogger("storybot.telegram")

PARAGRAPH_BUTTON = "para"  # callback data: para:<document key>:<paragraph number>
_PARAGRAPH_DATA = re.compile(rf"{PARAGRAPH_BUTTON}:([0-9a-f]{{12}}):([1-9][0-9]{{0,8}})", re.ASCII)
# Button presses and inline queries, per person and minute: they cost an answer each, as questions do.
PRESSES_PER_MINUTE = 30


def document_key(doc_id: str) -> str:
    """A short, stable stand-in for a document id: callback data holds at most 64 bytes."""
    return hashlib.sha256(doc_id.encode()).hexdigest()[:12]


class Handlers:
    """Every update handler, bound to the conversation they hand messages to."""

    def __init__(self, story: Story, settings: Settings) -> None:
        self.story = story
        self.conversation = Conversation(story, settings.questions_per_minute)
        self.allowed_chats = settings.allowed_chats
        self.log_questions = settings.log_questions
        self.presses = RateLimit(PRESSES_PER_MINUTE)  # button presses and inline queries
        self.refused: set[int] = set()
        self._keys: tuple[object, dict[str, str]] = (None, {})  # the index they were made for, and the keys

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
            await best_effort(update.callback_query.answer(words.not_allowed()), "answerCallbackQuery")
        elif update.inline_query:
            await best_effort(update.inline_query.answer([], cache_time=0, is_personal=True), "answerInlineQuery")
        elif update.effective_message and who is not None and who not in self.refused:
            self.refused.add(who)
            await send_pages(update.effective_message, render_text(words.not_allowed()), what="refusal")
        raise ApplicationHandlerStop

    # -- messages -----------------------------------------------------------------------------

    async def addressed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message meant for the bot: any text of a private chat, a command of the bot's in a group."""
        message, text = _text_message(update)
        if message.chat.type == ChatType.PRIVATE:
            await self._reply(message, text, Channel.PRIVATE, _queued(context), thread=message.chat.id)
            return
        # /ask starts afresh; /new as a reply to an answer forgets the chain that answer is part of.
        command, _ = parse_command(text) or ("", "")
        thread = _chain(message, context) if command == "new" else None
        await self._reply(message, text, Channel.GROUP, _queued(context), thread)

    async def private_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None:
            await send_pages(update.effective_message, render_text(words.text_only()), what="hint")

    async def group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In groups, answer only a mention of the bot or a reply to one of its messages."""
        message, text = _text_message(update)
        mention = f"@{context.bot.username}".lower()
        mentioned = mention in _mentions(message)
        chain = _chain(message, context)
        if not mentioned and chain is None:
            return
        question = re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE).strip()
        # A reply to one of the bot's answers continues the question it answered; a mention starts afresh.
        await self._reply(message, question, Channel.GROUP, _queued(context), None if mentioned else chain)

    async def _reply(
        self, message: Message, text: str, channel: Channel, queued: bool, thread: Hashable | None
    ) -> None:
        person = message.from_user.id if message.from_user else message.chat.id
        if not queued and self.conversation.asks(text, channel):
            await best_effort(message.chat.send_action(ChatAction.TYPING), "sendChatAction")
        started = time.perf_counter()
        reply = self.conversation.reply(text, channel, person, thread)
        if reply is None:
            return  # past the limit, and told so already
        if reply.answer is not None:
            self._log_question(channel, reply, time.perf_counter() - started, person)
        buttons = self._paragraph_buttons(reply)
        plain = render_plain(reply)[:MESSAGE_LIMIT] if reply.answer else ""
        sent = await send_pages(message, render(reply), markup=buttons, plain=plain, what=reply.kind.value)
        if channel is Channel.GROUP and reply.turns:  # a reply to any page of this answer continues from here
            for page in sent:
                self.conversation.memory.remember(("chain", page.chat.id, page.message_id), reply.turns)

    def _log_question(self, channel: Channel, reply: Reply, seconds: float, person: int) -> None:
        """One INFO line a question, for whoever runs the bot; who asked what only when they opted in."""
        question = reply.answer.question if reply.answer else ""
        quotes = len(reply.answer.quotes) if reply.answer else 0
        line = f"question in a {channel.value} chat: {reply.kind.value}, {quotes} quotes, {seconds * 1000:.1f} ms"
        if self.log_questions:
            line += f", from {person}: {question!r}"
        log.info("%s", line)

    def _paragraph_buttons(self, reply: Reply) -> InlineKeyboardMarkup | None:
        quotes = reply.answer.quotes if reply.answer else ()
        if not quotes:
            return None
        data = [f"{PARAGRAPH_BUTTON}:{document_key(q.doc_id)}:{q.paragraph}" for q in quotes]
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(f"[{n}] whole paragraph", callback_data=d)] for n, d in enumerate(data, 1)]
        )

    # -- buttons and inline mode ---------------------------------------------------------------

    async def paragraph_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        if not self._may_press(query.from_user.id):
            await best_effort(query.answer(words.slow_down_presses()), "answerCallbackQuery")
            return
        passage = self._paragraph(query.data)
        if passage is None:
            await best_effort(query.answer(words.stale_button(), show_alert=True), "answerCallbackQuery")
            return
        await best_effort(query.answer(), "answerCallbackQuery")
        if query.message is not None and isinstance(query.message, Message):
            pages = render_paragraph(passage.source.title, passage.paragraph, passage.text)
            await send_pages(query.message, pages, what="paragraph")

    def _paragraph(self, data: object) -> Passage | None:
        """The passage a button names; None for data this bot did not make, or made for an older story."""
        match = _PARAGRAPH_DATA.fullmatch(data) if isinstance(data, str) else None
        index = self.story.index  # one index for both lookups, whatever the corpus does meanwhile
        doc_id = self._doc_ids(index).get(match.group(1)) if match else None
        return index.passage_at(doc_id, int(match.group(2))) if match and doc_id else None

    def _doc_ids(self, index: Index) -> dict[str, str]:
        """The doc ids of the index in use by their button keys, made again when the corpus has changed."""
        made_for, keys = self._keys
        if made_for is not index:
            keys = {document_key(source.doc_id): source.doc_id for source in index.sources}
            self._keys = (index, keys)
        return keys

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
        reply = self.conversation.answer(query.query, Channel.INLINE)
        quotes = reply.answer.quotes if reply.answer else ()
        article = InlineQueryResultArticle(
            id=hashlib.sha256(query.query.encode()).hexdigest()[:32],
            title=(reply.answer.question if reply.answer else query.query)[:200] or "StoryBot",
            description=(quotes[0].text if quotes else reply.words)[:200],
            input_message_content=InputTextMessageContent(render(reply)[0], parse_mode=ParseMode.HTML),
        )
        await best_effort(query.answer([article], cache_time=60), "answerInlineQuery")


def _chain(message: Message, context: ContextTypes.DEFAULT_TYPE) -> tuple[object, ...] | None:
    """The group conversation a message continues: the reply chain of the bot's answer it replies to."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return None
    return ("chain", message.chat.id, replied.message_id)


def _queued(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether other updates wait. A typing indicator counts against Telegram's flood limits as a message
    does, so when a queue has formed the slot goes to an answer instead."""
    application = context.application
    return application.update_queue.qsize() > 0 or application.update_processor.current_concurrent_updates > 1


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log, tell the person in plain words (never the error itself), and carry on with the next update."""
    if update is None and isinstance(context.error, TelegramError):  # getUpdates failed; PTB polls again
        log.warning("getUpdates failed (%s); trying again", context.error)
        return
    log.error("update %s failed: %s", getattr(update, "update_id", "?"), context.error, exc_info=context.error)
    message = update.effective_message if isinstance(update, Update) else None
    if message is not None and message.chat is not None:
        await best_effort(message.chat.send_message(words.something_went_wrong()), "error notice")


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

