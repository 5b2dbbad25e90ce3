"""What the bot says besides quotes, in plain words; each channel's renderer formats and escapes it."""

from bot.story import Story
from retrieval.answer import MAX_QUESTION_CHARS, Answer, Problem
from retrieval.furniture import readable_title


def titles(story: Story) -> str:
    names = [f"“{readable_title(document.title)}”" for document in story.index.sources]
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


def sources(story: Story) -> str:
    documents = enumerate(story.index.sources, 1)
    lines = [f"{n}. {readable_title(document.title)} ({document.doc_id})" for n, document in documents]
    return "I quote from these articles:\n" + "\n".join(lines)


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
    return "Sorry, that button is out of date: ask your question again for a fresh answer."


def not_allowed() -> str:
    return "Sorry, this bot is private and not open to this chat."


def unknown_command(name: str) -> str:
    return f"I don't know the command /{name}. Send /help to see what I can do."


def slow_down(seconds: int) -> str:
    return f"You are asking faster than I can keep up with. Please wait {seconds} seconds, then ask again."


def something_went_wrong() -> str:
    return "Sorry, something went wrong on my side while answering. Please ask again."
