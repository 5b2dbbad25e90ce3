"""A private chat with the bot in the terminal: same answers and commands, plain text instead of HTML."""

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot.conversation import Channel, Conversation, Kind
from bot.render_text import render
from bot.story import Story

HISTORY = Path.home() / ".storybot_history"


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
    conversation = Conversation(story)
    interactive = stdin.isatty() and stdout.isatty()
    if interactive:
        print(_said(conversation, "/start") + "\n\n/quit or Ctrl-D leaves.\n", file=stdout)
    for line in _lines(stdin, interactive):
        if not line.strip():
            continue
        reply = conversation.reply(line, Channel.CONSOLE, thread="console")
        if reply is not None and reply.kind is Kind.QUIT:
            break
        if reply is not None:
            print(render(reply) + "\n", file=stdout, flush=True)
    return 0


def _said(conversation: Conversation, text: str) -> str:
    reply = conversation.reply(text, Channel.CONSOLE)
    return render(reply) if reply else ""
