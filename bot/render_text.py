"""The plain-text renderer: a reply as a person reads it in a terminal (and in `ask`'s JSON)."""

from bot.conversation import Reply
from retrieval import readable_title


def render(reply: Reply) -> str:
    """The bot's own words, then each quote as an e-mail style quotation with its number, then the numbered
    sources."""
    quotes = reply.answer.quotes if reply.answer else ()
    if not quotes:
        return reply.words
    quoted = [f"> {quote.text} [{n}]" for n, quote in enumerate(quotes, 1)]
    cited = [f"[{n}] {readable_title(quote.title)}, paragraph {quote.paragraph}" for n, quote in enumerate(quotes, 1)]
    return "\n\n".join([reply.words, *quoted] if reply.words else quoted) + "\n\nSources:\n" + "\n".join(cited)
