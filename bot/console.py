"""A private chat with the bot in the terminal: same answers and commands, plain text instead of HTML."""

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot import messages
from bot.commands import COMMANDS, parse_command
from bot.render_text import render_answer
from bot.story import Story
from retrieval.answer import answer

QUIT = {"quit", "exit"}
HISTORY = Path.home() / ".storybot_history"


def reply(story: Story, text: str) -> str | None:
    """The bot's reply to one message, as in a private chat; None ends the session."""
    command = parse_command(text)
    if command is None:
        return render_answer(answer(story.index, text), story)
    name, rest = command
    if name in QUIT:
        return None
    if name == "ask":
        return render_answer(answer(story.index, rest), story)
    if name in COMMANDS:
        return COMMANDS[name](story, rest)
    return messages.unknown_command(name)


def _lines(stdin: TextIO, interactive: bool) -> Iterator[str]:
    """Lines as typed, with readline's editing and history when a person is at the terminal."""
    if not interactive:
        yield from stdin
        return
    import readline

    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY)
    try:
        while True:
            try:
                yield input("you> ")
            except EOFError:
                print()
                return
    finally:
        with contextlib.suppress(OSError):
            readline.write_history_file(HISTORY)


def run_console(story: Story, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        print(messages.start(story) + "\n\n/quit or Ctrl-D leaves.\n", file=stdout)
    for line in _lines(stdin, interactive):
        if not line.strip():
            continue
        text = reply(story, line)
        if text is None:
            break
        print(text + "\n", file=stdout, flush=True)
    return 0
