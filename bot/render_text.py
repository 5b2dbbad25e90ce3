"""The plain-text channel's renderer: an answer as a person reads it in a terminal."""

from bot import messages
from bot.story import Story
from retrieval.answer import Answer


def render_answer(answer: Answer, story: Story) -> str:
    """Each quote as an e-mail style quotation with its number, then the numbered sources."""
    if not answer.answered:
        return messages.declined(answer, story)
    quotes = [f"> {quote.text} [{n}]" for n, quote in enumerate(answer.quotes, 1)]
    citations = [f"[{n}] {quote.title}, paragraph {quote.paragraph}" for n, quote in enumerate(answer.quotes, 1)]
    return "\n\n".join(quotes) + "\n\nSources:\n" + "\n".join(citations)
