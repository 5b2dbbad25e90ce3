"""The command line: `storybot ask`, `storybot console`, `storybot eval`, `storybot index`, `storybot run`."""

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn

from bot.console import run_console
from bot.conversation import Channel, Conversation, Reply
from bot.logs import configure_logging
from bot.render_text import render
from bot.story import BUNDLED_STORY, Story, kept_index, open_story
from config import Settings, SettingsError, load_settings
from retrieval import StoryBotError, Tally, evaluate, load_corpus, quoted, read_questions, readable_title

PROG = "storybot"


class StartError(StoryBotError):
    """The bot cannot start as configured (a missing token, a webhook open to anyone, a refused token)."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line rather than usage and all."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Answers questions about a news story with its own sentences.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('storybot')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    corpus_help = "a corpus file or directory (default: STORYBOT_CORPUS, else the bundled story)"

    ask = commands.add_parser("ask", help="answer a question, or one per line of standard input")
    ask.add_argument("question", nargs="?", help="the question; without it, questions are read from standard input")
    ask.add_argument("--corpus", type=Path, help=corpus_help)
    ask.add_argument("--json", action="store_true", help="print each answer as one line of JSON")
    ask.add_argument(
        "--chat", action="store_true", help="standard input is one private chat: a question may lean on earlier ones"
    )
    ask.set_defaults(handler=_ask)

    console = commands.add_parser("console", help="chat with the bot in the terminal")
    console.add_argument("--corpus", type=Path, help=corpus_help)
    console.set_defaults(handler=_console)

    evaluate = commands.add_parser("eval", help="measure answers on a question file, beside plain BM25")
    evaluate.add_argument("--corpus", type=Path, help=corpus_help)
    evaluate.add_argument("--questions", type=Path, required=True, help="JSON lines: SQuAD's or the story sets' format")
    evaluate.add_argument(
        "--per-document",
        action="store_true",
        help="make each document a story of its own, asked its questions and others' (to be declined)",
    )

    sources = commands.add_parser("sources", help="list the story's documents: title, doc id, paragraphs")
    sources.add_argument("--corpus", type=Path, help=corpus_help)
    sources.add_argument("--json", action="store_true", help="print each document as one line of JSON")
    sources.set_defaults(handler=_sources)

    index = commands.add_parser("index", help="build the story's index ahead of time and keep it (STORYBOT_CACHE_DIR)")
    index.add_argument("--corpus", type=Path, help=corpus_help)

    run = commands.add_parser("run", help="serve the story on Telegram (STORYBOT_TELEGRAM_TOKEN required)")
    run.add_argument("--corpus", type=Path, help=corpus_help)
    run.set_defaults(handler=_run)
    return parser


def as_json(reply: Reply) -> str:
    """One answer as ../shared/interface.md has it."""
    result = reply.answer
    assert result is not None, "the command line asks questions only"
    return json.dumps(
        {
            "question": result.question,
            "outcome": result.outcome.value,
            "answered": result.answered,
            "quotes": [
                {"text": q.text, "doc_id": q.doc_id, "title": q.title, "paragraph": q.paragraph, "score": q.score}
                for q in result.quotes
            ],
            "reply": render(reply),
            "understood_as": reply.understood_as,
        },
        ensure_ascii=False,
    )


def _console(story: Story, settings: Settings, args: argparse.Namespace) -> int:
    if not settings.watch_corpus:
        return run_console(story)
    from bot.live import LiveCorpus, following  # asyncio and the watcher: for the channels that serve, not `ask`

    with following(LiveCorpus(story)):
        return run_console(story)


def _run(story: Story, settings: Settings, args: argparse.Namespace) -> int:
    from telegram.error import InvalidToken, TelegramError

    from bot.telegram.app import run_bot

    try:
        run_bot(settings, story)
    except InvalidToken:
        raise StartError("the Bot API refused the token (STORYBOT_TELEGRAM_TOKEN): check it with @BotFather") from None
    except TelegramError as error:
        raise StartError(f"cannot use the Bot API at {settings.telegram_base_url}: {error}") from None
    return 0


def _check_can_run(settings: Settings) -> None:
    if settings.telegram_token is None:
        raise StartError("STORYBOT_TELEGRAM_TOKEN is not set: get a token from @BotFather and export it")
    if settings.webhook_open_to_anyone():
        raise StartError(
            f"STORYBOT_WEBHOOK_SECRET is not set, and the webhook would listen on {settings.webhook_listen} for "
            "anyone: set a secret, or STORYBOT_WEBHOOK_LISTEN=127.0.0.1 behind a proxy on this machine"
        )


def _index(settings: Settings) -> int:
    if settings.cache_dir is None:
        raise SettingsError("STORYBOT_CACHE_DIR is set empty: there is nowhere to keep an index")
    start = time.perf_counter()
    index, path, kept = kept_index(settings.corpus, settings.cache_dir)
    seconds = time.perf_counter() - start
    what = f"{len(index.sources):,} documents, {len(index):,} passages"
    if kept == "current":
        print(f"{what}: the index kept in {quoted(str(path))} is current")
    elif kept == "kept":
        print(f"{what}: indexed in {seconds:.1f} s and kept in {quoted(str(path))}")
    else:
        print(f"{what}: indexed in {seconds:.1f} s but not kept (see the warning above)", file=sys.stderr)
        return 1
    return 0


def _sources(story: Story, settings: Settings, args: argparse.Namespace) -> int:
    counts = story.index.passage_counts()
    for number, (source, paragraphs) in enumerate(zip(story.index.sources, counts, strict=True), 1):
        if args.json:
            document = {"doc_id": source.doc_id, "title": source.title, "paragraphs": paragraphs}
            print(json.dumps(document, ensure_ascii=False))
        else:
            print(f"{number}. {readable_title(source.title)}\n   {source.doc_id}, {paragraphs} paragraphs")
    return 0


def _ask(story: Story, settings: Settings, args: argparse.Namespace) -> int:
    conversation = Conversation(story)
    one = args.question is not None
    questions = [args.question] if one else (line for line in _typed_or_piped() if line.strip())
    chat = "ask --chat" if args.chat else None  # the one conversation standard input holds
    for n, question in enumerate(questions):
        reply = conversation.answer(question, Channel.COMMAND_LINE, chat)
        if args.json:
            print(as_json(reply), flush=True)
        else:  # in a batch, each answer says which question it answers
            asked = "" if one else f"Q: {question.strip()}\n"
            print(("\n" if n else "") + asked + render(reply), flush=True)
    return 0


def _typed_or_piped() -> Iterator[str]:
    """Standard input's lines; at a terminal, each asked for with a prompt (Ctrl-D ends)."""
    if not sys.stdin.isatty():
        yield from sys.stdin
        return
    while True:
        try:
            yield input("Question: ")
        except EOFError:
            return


def _evaluate(settings: Settings, args: argparse.Namespace) -> int:
    questions = read_questions(args.questions)
    corpus = load_corpus(settings.corpus or BUNDLED_STORY)
    for warning in corpus.warnings:
        logging.getLogger(PROG).warning(warning)
    tallies = evaluate(corpus, questions, args.per_document)
    print(evaluation_table(tallies))
    return 0


def evaluation_table(tallies: dict[str, Tally]) -> str:
    """The systems side by side, as a Markdown table that reads as well in a terminal as in the README."""
    columns = {name: tally.rows() for name, tally in tallies.items()}
    lines = ["| | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for measure in next(iter(columns.values())):
        cells = [_figure(measure, rows[measure]) for rows in columns.values()]
        lines.append(f"| {measure} | " + " | ".join(cells) + " |")
    first = next(iter(tallies.values()))
    return "\n".join(lines) + f"\n\n{first.answerable} answerable and {first.off_topic} off-topic questions asked."


def _figure(measure: str, value: float | None) -> str:
    if value is None:
        return "-"
    if measure.startswith("quoted characters"):
        return f"{value:.0f}"
    return f"{value:.1f}" if measure.startswith(("quotes", "milliseconds")) else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(corpus=args.corpus)
        secrets = [s.get_secret_value() for s in (settings.telegram_token, settings.webhook_secret) if s]
        configure_logging(settings.log_level, secrets, PROG)
        if args.command == "run":
            _check_can_run(settings)
        if args.command == "eval":  # measures the corpus itself: no index of the whole corpus to open
            return _evaluate(settings, args)
        if args.command == "index":  # keeps the index for later: no story to serve
            return _index(settings)
        live = args.command in ("run", "console") and settings.watch_corpus
        story = open_story(settings.corpus, settings.cache_dir, live)
        code: int = args.handler(story, settings, args)
        return code
    except StoryBotError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return error.exit_status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (`| head`); nothing left to say
        return 0
