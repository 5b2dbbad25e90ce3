"""Chat commands, shared by every channel so that /help means the same in a terminal and on Telegram."""

import re
from collections.abc import Callable

from bot import messages
from bot.story import Story

# Each takes the story and whatever followed the command ("/sources 2": "2").
COMMANDS: dict[str, Callable[[Story, str], str]] = {
    "start": lambda story, _: messages.start(story),
    "help": lambda story, _: messages.help_text(story),
    "sources": messages.sources,
}

_COMMAND = re.compile(r"^/(\w+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)


def parse_command(text: str) -> tuple[str, str] | None:
    """'/ask@StoryBot why?' -> ('ask', 'why?'); None for text that is not a command."""
    match = _COMMAND.match(text.strip())
    if not match:
        return None
    return match.group(1).lower(), (match.group(2) or "").strip()
