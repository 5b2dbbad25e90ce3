"""The Telegram renderer: answers as HTML messages Telegram accepts, none over its length limit."""

import html
import re
from collections.abc import Callable

from bot import messages
from bot.story import Story
from retrieval.analysis import analyze
from retrieval.answer import Answer, Outcome
from retrieval.furniture import readable_title

# Telegram's limit. It counts characters after parsing; counting the HTML itself is stricter and
# holds for any Bot API server, whichever way it counts.
MESSAGE_LIMIT = 4096
TITLE_LIMIT = 200  # a citation names its article, it does not reprint a runaway first line
_WORD = re.compile(r"\w+")


def highlight(text: str, question_terms: set[str]) -> str:
    """Escaped text with the words that matched the question in bold."""
    parts: list[str] = []
    cursor = 0
    for word in _WORD.finditer(text):
        if set(analyze(word.group())) & question_terms:
            parts.append(html.escape(text[cursor : word.start()]) + f"<b>{html.escape(word.group())}</b>")
            cursor = word.end()
    return "".join(parts) + html.escape(text[cursor:])


def _title(title: str) -> str:
    title = readable_title(title)
    return html.escape(title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…")


def render_answer(answer: Answer, story: Story) -> list[str]:
    """The messages that carry an answer: each quote as a blockquote with its citation beneath; a `closest`
    answer first says, in italics, that it may not be one."""
    if answer.outcome is Outcome.DECLINED:
        return render_text(messages.declined(answer, story))
    terms = set(answer.terms)
    blocks = [f"<i>{html.escape(messages.not_sure())}</i>"] if answer.outcome is Outcome.CLOSEST else []
    for number, quote in enumerate(answer.quotes, 1):
        cite = f"\n[{number}] <i>{_title(quote.title)}</i>, paragraph {quote.paragraph}"
        quoted = _fitted(quote.text, lambda text: f"<blockquote>{highlight(text, terms)}</blockquote>", len(cite))
        blocks += [piece + cite for piece in quoted]
    return pack(blocks)


def render_paragraph(title: str, number: int, text: str) -> list[str]:
    head = f"<b>{_title(title)}</b>, paragraph {number}"
    return pack([head, *_fitted(text, lambda piece: f"<blockquote>{html.escape(piece)}</blockquote>")])


def render_text(text: str) -> list[str]:
    """Plain words from messages.py, escaped, in as many messages as they need."""
    return pack(_fitted(text, html.escape))


def _fitted(text: str, render: Callable[[str], str], reserved: int = 0) -> list[str]:
    """render(text), cut at white space into halves until each rendering fits beside `reserved` characters.

    The text is cut before it is rendered, so no cut falls inside a tag or an entity.
    """
    rendered = render(text)
    if len(rendered) + reserved <= MESSAGE_LIMIT or len(text) < 2:
        return [rendered]
    middle = len(text) // 2
    cut = text.rfind(" ", 0, middle)
    cut = cut if cut > 0 else middle
    return _fitted(text[:cut].rstrip(), render, reserved) + _fitted(text[cut:].lstrip(), render, reserved)


def pack(blocks: list[str]) -> list[str]:
    """Blocks joined by blank lines into as few messages as fit the limit, never splitting a block."""
    out: list[str] = []
    for block in blocks:
        if out and len(out[-1]) + 2 + len(block) <= MESSAGE_LIMIT:
            out[-1] += "\n\n" + block
        else:
            out.append(block)
    return out
