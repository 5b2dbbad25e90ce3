"""What the bot says besides quotes, in plain words; each channel's renderer formats and escapes it."""

from bot.story import Story
from retrieval.answer import MAX_QUESTION_CHARS, Answer, Problem
from retrieval.furniture import readable_title

# A reply names a few articles; a story of thousands is listed by /sources, a page at a time.
TITLES_NAMED = 3
SOURCES_PER_PAGE = 20
LISTED_TITLE_CHARS = 150


def _listed(title: str) -> str:
    title = readable_title(title)
    return title if len(title) <= LISTED_TITLE_CHARS else title[: LISTED_TITLE_CHARS - 1] + "…"


def titles(story: Story) -> str:
    documents = story.index.sources
    names = [f"“{_listed(document.title)}”" for document in documents[:TITLES_NAMED]]
    if len(documents) > TITLES_NAMED:
        return ", ".join(names) + f" and {len(documents) - TITLES_NAMED:,} more articles (/sources lists them)"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _for_example(story: Story) -> str:
    return "\n".join(f"• {question}" for question in story.examples) or "• What happened, and why?"


def start(story: Story) -> str:
    return (
        "Hello! I answer questions about a news story in its own words: every reply quotes the "
        "sentences that answer you and says which article and paragraph they come from.\n\n"
        f"The story: {titles(story)}.\n\nTry asking:\n{_for_example(story)}\n\n"
        "Send /help to see what else I can do."
    )


def help_text(story: Story) -> str:
    return (
        "Ask me anything about the story in your own words, for example:\n"
        f"{_for_example(story)}\n\n"
        "I reply with the story's sentences that answer it, quoted word for word, each with its "
        "article and paragraph. When the story does not say, I tell you so.\n\n"
        "Commands:\n"
        "/help – this message\n"
        "/sources – the articles I quote from\n"
        "/ask QUESTION – ask in a group chat\n"
        "/start – what I am for"
    )


def sources(story: Story, page: str = "") -> str:
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


def declined(answer: Answer, story: Story) -> str:
    """Why there are no quotes, and what the person could do instead."""
    if answer.problem is Problem.TOO_LONG:
        return f"That question is too long for me: please keep it under {MAX_QUESTION_CHARS} characters."
    if answer.problem is Problem.NO_QUESTION:
        return f"Ask me a question about the story, for example:\n{_for_example(story)}"
    return (
        f"The story does not answer that. It covers {titles(story)}. "
        "Try asking about what happens in it, or send /sources to see the articles."
    )


def not_sure() -> str:
    """Said before the quotes of a `closest` answer, so that nobody takes them for a confident one."""
    return "I'm not sure the story answers exactly that. The closest it comes:"


def how_to_ask() -> str:
    return "Put your question after the command, for example: /ask Why did Kim travel to Russia?"


def text_only() -> str:
    return "I can only read text. Send me your question about the story as a message."


def stale_button() -> str:
    return "That button has expired: ask your question again for a fresh answer."


def not_allowed() -> str:
    return "Sorry, this bot is private and not open to this chat."


def unknown_command(name: str) -> str:
    return f"I don't know the command /{name}. Send /help to see what I can do."


def slow_down_presses() -> str:
    return "That is a lot of buttons at once: please wait a minute, then try again."


def slow_down(seconds: int) -> str:
    return f"You are asking faster than I can keep up with. Please wait {seconds} seconds, then ask again."


def something_went_wrong() -> str:
    return "Sorry, something went wrong on my side while answering. Please ask again."
