"""The conversation core: what the bot replies to a message, in every channel, and in which words.

Channels (the console, `storybot ask`, Telegram's private chats, groups and inline mode) hand each
message here with where it came from and render the Reply they get back; none decides a reply of its
own. The words live here too, so that each channel names only the commands it has.
"""

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import Enum

from bot.limits import RateLimit, Verdict
from bot.memory import Memory
from bot.story import Story
from retrieval import MAX_QUESTION_CHARS, Answer, Outcome, Problem, Turn, read_in_context, readable_title


class Channel(Enum):
    PRIVATE = "private"  # a private Telegram chat: every message is a question
    GROUP = "group"  # a Telegram group, where the bot was addressed (/ask, a mention, a reply to it)
    INLINE = "inline"  # Telegram's inline mode: one answer offered for sending
    CONSOLE = "console"  # the terminal session, which behaves like a private chat
    COMMAND_LINE = "command line"  # `storybot ask`: questions only, no chat commands

    @property
    def chat(self) -> bool:
        """Chat commands (/help, /sources, ...) exist here."""
        return self is not Channel.COMMAND_LINE


class Kind(Enum):
    ANSWER = "answer"
    CLOSEST = "closest"
    DECLINED = "declined"
    START = "start"
    HELP = "help"
    SOURCES = "sources"
    HOW_TO_ASK = "how to ask"  # /ask, or a mention, with no question
    UNKNOWN_COMMAND = "unknown command"
    SLOW_DOWN = "slow down"  # the first question over a person's limit
    NEW = "new"  # /new: the conversation so far is forgotten
    QUIT = "quit"  # the console's /quit


@dataclass(frozen=True)
class Reply:
    kind: Kind
    words: str = ""  # what the bot says in its own words: all of the reply but an answer's quotes
    answer: Answer | None = None  # the question's answer, for ANSWER, CLOSEST and DECLINED
    understood_as: str | None = None  # the question made explicit, when it leaned on earlier ones
    turns: tuple[Turn, ...] = ()  # the conversation so far, this question included


_KIND_OF = {Outcome.ANSWERED: Kind.ANSWER, Outcome.CLOSEST: Kind.CLOSEST, Outcome.DECLINED: Kind.DECLINED}
_COMMAND = re.compile(r"^/(\w+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


def parse_command(text: str) -> tuple[str, str] | None:
    """'/ask@StoryBot why?' -> ('ask', 'why?'); None for text that is not a command."""
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()


class Conversation:
    """The bot's side of every chat about one story."""

    def __init__(self, story: Story, questions_per_minute: int | None = None) -> None:
        self.story = story
        self.limit = RateLimit(questions_per_minute) if questions_per_minute else None
        self.memory = Memory()
        # Each command takes what followed it ("/sources 2": "2"), the channel and the conversation.
        self._commands: dict[str, Callable[[str, Channel, Hashable | None], Reply]] = {
            "start": lambda rest, channel, thread: Reply(Kind.START, _start(story, channel)),
            "help": lambda rest, channel, thread: Reply(Kind.HELP, _help(story, channel)),
            "sources": lambda rest, channel, thread: Reply(Kind.SOURCES, sources(story, rest, channel)),
            "new": lambda rest, channel, thread: self._forget(thread),
        }

    @property
    def commands(self) -> list[str]:
        """The chat commands every chat channel knows, /ask aside."""
        return list(self._commands)

    def reply(
        self, text: str, channel: Channel, person: int | None = None, thread: Hashable | None = None
    ) -> Reply | None:
        """The reply to one message; None when the bot should stay quiet (a person past their limit, told once).

        `thread` names the conversation the message continues (a private chat, a group's reply chain, a
        console session); None reads it alone. In a group, `text` is what follows the bot's mention, or the
        whole of a command or a reply to the bot.
        """
        question = self._question(text, channel)
        if question is not None:
            return self._limited(question, channel, person, thread)
        name, rest = parse_command(text) or ("", "")
        if name in self._commands:
            return self._commands[name](rest, channel, thread)
        if name == "ask" or (channel is Channel.GROUP and not text.strip()):
            return Reply(Kind.HOW_TO_ASK, how_to_ask())
        if channel is Channel.CONSOLE and name in ("quit", "exit"):
            return Reply(Kind.QUIT)
        return Reply(Kind.UNKNOWN_COMMAND, f"I don't know the command /{name}. Send /help to see what I can do.")

    def _forget(self, thread: Hashable | None) -> Reply:
        if thread is not None:
            self.memory.forget(thread)
        return Reply(Kind.NEW, "Forgotten. Your next question starts a new conversation.")

    def asks(self, text: str, channel: Channel) -> bool:
        """Whether the message is a question to be answered, rather than a command."""
        return self._question(text, channel) is not None

    def _question(self, text: str, channel: Channel) -> str | None:
        command = parse_command(text) if channel.chat and channel is not Channel.INLINE else None
        if command is None:
            return None if channel is Channel.GROUP and not text.strip() else text
        name, rest = command
        return rest if name == "ask" and rest else None

    def _limited(self, question: str, channel: Channel, person: int | None, thread: Hashable | None) -> Reply | None:
        if self.limit is not None and person is not None:
            verdict = self.limit.check(person)
            if verdict is Verdict.NOTICE:
                return Reply(Kind.SLOW_DOWN, _slow_down(self.limit.wait_seconds(person)))
            if verdict is Verdict.IGNORE:
                return None
        return self.answer(question, channel, thread)

    def answer(self, question: str, channel: Channel, thread: Hashable | None = None) -> Reply:
        """The answer to a question, whoever asks and however often; in the light of the thread's earlier
        questions when there is a thread, and then remembered in it."""
        history = self.memory.recall(thread) if thread is not None else ()
        result, understood = read_in_context(self.story.index, question, history)
        turns = (*history, Turn.of(understood or result.question, result))
        if thread is not None:
            self.memory.remember(thread, turns)
        return answer_reply(result, self.story, channel, understood, turns)


def answer_reply(
    result: Answer, story: Story, channel: Channel, understood: str | None = None, turns: tuple[Turn, ...] = ()
) -> Reply:
    """An answer as a reply: one that leaned on earlier questions first says how it was read; a `closest`
    one says that it may not be an answer; a decline says why."""
    kind = _KIND_OF[result.outcome]
    read_as = [f"Reading that as: {understood}"] if understood else []
    if kind is Kind.ANSWER:
        words = read_as
    elif kind is Kind.CLOSEST:
        words = [*read_as, not_sure()]
    else:
        words = [*read_as, _declined(result, story, channel)]
    return Reply(kind, "\n".join(words), result, understood, turns)


# -- the words ------------------------------------------------------------------------------------

# A reply names a few articles; a story of thousands is listed by /sources, a page at a time.
TITLES_NAMED = 3
SOURCES_PER_PAGE = 20
LISTED_TITLE_CHARS = 150


def _listed(title: str) -> str:
    title = readable_title(title)
    return title if len(title) <= LISTED_TITLE_CHARS else title[: LISTED_TITLE_CHARS - 1] + "…"


def _list_them(channel: Channel) -> str:
    return "/sources lists them" if channel.chat else "`storybot sources` lists them"


def titles(story: Story, channel: Channel) -> str:
    documents = story.index.sources
    names = [f"“{_listed(document.title)}”" for document in documents[:TITLES_NAMED]]
    if len(documents) > TITLES_NAMED:
        return ", ".join(names) + f" and {len(documents) - TITLES_NAMED:,} more articles ({_list_them(channel)})"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _for_example(story: Story) -> str:
    return "\n".join(f"• {question}" for question in story.examples) or "• What happened, and why?"


def _start(story: Story, channel: Channel) -> str:
    return (
        "Hello! I answer questions about a news story in its own words: every reply quotes the "
        "sentences that answer you and says which article and paragraph they come from.\n\n"
        f"The story: {titles(story, channel)}.\n\nTry asking:\n{_for_example(story)}\n\n"
        "Send /help to see what else I can do."
    )


def _help(story: Story, channel: Channel) -> str:
    commands = ["/help – this message", "/sources – the articles I quote from"]
    if channel is Channel.CONSOLE:
        commands += ["/ask QUESTION – the same as asking", "/start – what I am for", "/quit – leave (or Ctrl-D)"]
    else:
        commands += ["/ask QUESTION – ask in a group chat", "/start – what I am for"]
    commands.insert(2, "/new – forget the conversation: the next question starts afresh")
    return (
        "Ask me anything about the story in your own words, for example:\n"
        f"{_for_example(story)}\n\n"
        "I reply with the story's sentences that answer it, quoted word for word, each with its "
        "article and paragraph. When the story does not say, I tell you so. You can follow up "
        "(\"and why?\", \"says who?\") without repeating yourself.\n\n"
        "Commands:\n" + "\n".join(commands)
    )


def sources(story: Story, page: str = "", channel: Channel = Channel.PRIVATE) -> str:
    """One page of the articles; `page` is what followed /sources, a page number or nothing."""
    documents = story.index.sources
    pages = -(-len(documents) // SOURCES_PER_PAGE)
    number = int(page) if page.isascii() and page.isdigit() and len(page) < 9 else 1
    number = min(max(number, 1), pages)
    first = (number - 1) * SOURCES_PER_PAGE
    shown = enumerate(documents[first : first + SOURCES_PER_PAGE], first + 1)
    lines = [f"{n}. {_listed(document.title)} ({document.doc_id})" for n, document in shown]
    text = "I quote from these articles:\n" + "\n".join(lines)
    if pages > 1:
        text += f"\n\nPage {number} of {pages}." + (f" Send /sources {number + 1} for more." if number < pages else "")
    return text


def _declined(result: Answer, story: Story, channel: Channel) -> str:
    """Why there are no quotes, and what the person could do instead."""
    if result.problem is Problem.TOO_LONG:
        return f"That question is too long for me: please keep it under {MAX_QUESTION_CHARS} characters."
    if result.problem is Problem.NO_QUESTION:
        return f"Ask me a question about the story, for example:\n{_for_example(story)}"
    see = "send /sources to see the articles" if channel.chat else "run `storybot sources` to see the articles"
    return (
        f"The story does not answer that. It covers {titles(story, channel)}. "
        f"Try asking about what happens in it, or {see}."
    )


def not_sure() -> str:
    """Said before the quotes of a `closest` answer, so that nobody takes them for a confident one."""
    return "I'm not sure the story answers exactly that. The closest it comes:"


def how_to_ask() -> str:
    return "Put your question after the command, for example: /ask Why did Kim travel to Russia?"


def _slow_down(seconds: int) -> str:
    return f"You are asking faster than I can keep up with. Please wait {seconds} seconds, then ask again."


# Said by the Telegram channel alone, about Telegram's own things.
def text_only() -> str:
    return "I can only read text. Send me your question about the story as a message."


def stale_button() -> str:
    return "That button has expired: ask your question again for a fresh answer."


def not_allowed() -> str:
    return "Sorry, this bot is private and not open to this chat."


def slow_down_presses() -> str:
    return "That is a lot of buttons at once: please wait a minute, then try again."


def something_went_wrong() -> str:
    return "Sorry, something went wrong on my side while answering. Please ask again."
