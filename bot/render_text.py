"""The plain-text channel's renderer: an answer as a person reads it in a terminal."""

from bot import messages
from bot.story import Story
from retrieval.answer import Answer, Outcome
from retrieval.furniture import readable_title


def render_answer(answer: Answer, story: Story) -> str:
    """Each quote as an e-mail style quotation with its number, then the numbered sources; a `closest`
    answer first says that it may not be one."""
    if answer.outcome is Outcome.DECLINED:
        return messages.declined(answer, story)
    quotes = [f"> {quote.text} [{n}]" for n, quote in enumerate(answer.quotes, 1)]
    citations = [
        f"[{n}] {readable_title(quote.title)}, paragraph {quote.paragraph}" for n, quote in enumerate(answer.quotes, 1)
    ]
    caveat = [messages.not_sure()] if answer.outcome is Outcome.CLOSEST else []
    return "\n\n".join([*caveat, *quotes]) + "\n\nSources:\n" + "\n".join(citations)
