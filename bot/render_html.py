"""The Telegram renderer: answers as HTML messages Telegram accepts, none over its length limit."""

import html
from collections.abc import Callable

from bot.conversation import Reply
from retrieval import readable_title

# Telegram's limit. It counts characters after parsing; counting the HTML itself is stricter and
# holds for any Bot API server, whichever way it counts.
MESSAGE_LIMIT = 4096
TITLE_LIMIT = 200  # a citation names its article, it does not reprint a runaway first line

Spans = tuple[tuple[int, int], ...]


def highlight(text: str, spans: Spans, start: int = 0, end: int | None = None) -> str:
    """text[start:end], escaped, with the spans (offsets into the whole text) that fall inside it in bold."""
    end = len(text) if end is None else end
    parts: list[str] = []
    cursor = start
    for first, last in spans:
        if first >= cursor and last <= end:
            parts.append(html.escape(text[cursor:first]) + f"<b>{html.escape(text[first:last])}</b>")
            cursor = last
    return "".join(parts) + html.escape(text[cursor:end])


def _title(title: str) -> str:
    title = readable_title(title)
    return html.escape(title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…")


def render(reply: Reply) -> list[str]:
    """The messages that carry a reply: an answer's quotes each as a blockquote with the question's words in
    bold and its citation beneath, after the bot's own words (in italics: a `closest` answer's caveat)."""
    quotes = reply.answer.quotes if reply.answer else ()
    if not quotes:
        return render_text(reply.words)
    blocks = [f"<i>{html.escape(reply.words)}</i>"] if reply.words else []
    for number, quote in enumerate(quotes, 1):
        cite = f"\n[{number}] <i>{_title(quote.title)}</i>, paragraph {quote.paragraph}"

        def quoted(start: int, end: int, text: str = quote.text, spans: Spans = quote.matched) -> str:
            return f"<blockquote>{highlight(text, spans, start, end)}</blockquote>"

        blocks += [piece + cite for piece in _fitted(quote.text, quoted, len(cite))]
    return pack(blocks)


def render_paragraph(title: str, number: int, text: str) -> list[str]:
    head = f"<b>{_title(title)}</b>, paragraph {number}"
    return pack([head, *_fitted(text, lambda start, end: f"<blockquote>{html.escape(text[start:end])}</blockquote>")])


def render_text(text: str) -> list[str]:
    """The bot's own words, escaped, in as many messages as they need."""
    return pack(_fitted(text, lambda start, end: html.escape(text[start:end])))


def _fitted(text: str, render: Callable[[int, int], str], reserved: int = 0) -> list[str]:
    """render(start, end) for pieces of text, halved at white space until each rendering fits beside `reserved`
    characters.

    The text is cut before it is rendered, so no cut falls inside a tag or an entity.
    """
    fitted: list[str] = []
    pending = [(0, len(text))]
    while pending:
        start, end = pending.pop()
        rendered = render(start, end)
        if len(rendered) + reserved <= MESSAGE_LIMIT or end - start < 2:
            fitted.append(rendered)
            continue
        middle = (start + end) // 2
        space = text.rfind(" ", start, middle)
        cut = space if space > start else middle
        left, right = text[start:cut].rstrip(), text[cut:end].lstrip()
        pending += [(end - len(right), end), (start, start + len(left))]  # the left half is taken first
    return fitted


def pack(blocks: list[str]) -> list[str]:
    """Blocks joined by blank lines into as few messages as fit the limit, never splitting a block."""
    out: list[str] = []
    for block in blocks:
        if out and len(out[-1]) + 2 + len(block) <= MESSAGE_LIMIT:
            out[-1] += "\n\n" + block
        else:
            out.append(block)
    return out
