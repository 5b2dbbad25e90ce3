"""The token never reaches a log line: from any logger, through any handler, in any part of a record."""

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.logs import OneLineFormatter, install_redaction

TOKEN = "123456:AAE-a-token-nobody-may-read"


@pytest.fixture
def redacted() -> Iterator[io.StringIO]:
    """A handler of its own on a library's logger, as a library might add, with redaction installed."""
    previous = install_redaction([TOKEN, ""])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    library = logging.getLogger("some.library")
    library.addHandler(handler)
    library.setLevel(logging.DEBUG)
    yield stream
    library.removeHandler(handler)
    logging.setLogRecordFactory(previous)


def test_messages_and_arguments_are_redacted(redacted: io.StringIO) -> None:
    logging.getLogger("some.library").info("POST https://api.telegram.org/bot%s/getMe", TOKEN)
    logging.getLogger("some.library").warning(f"token {TOKEN} in an f-string")
    text = redacted.getvalue()
    assert TOKEN not in text and "123456" not in text.replace("[REDACTED]", "")
    assert text.count("[REDACTED]") == 2


def test_exception_texts_and_tracebacks_are_redacted(redacted: io.StringIO) -> None:
    try:
        raise ConnectionError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getUpdates")
    except ConnectionError:
        logging.getLogger("some.library").exception("polling failed")
    text = redacted.getvalue()
    assert "Traceback" in text and "ConnectionError" in text
    assert TOKEN not in text and "[REDACTED]/getUpdates" in text


def test_records_without_secrets_are_left_alone(redacted: io.StringIO) -> None:
    logging.getLogger("some.library").info("answered %d questions in %s", 3, "0.1 s")
    assert redacted.getvalue() == "some.library answered 3 questions in 0.1 s\n"


def test_tracebacks_are_written_only_when_debugging() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, "f", 1, "failed", (), sys.exc_info())
    assert OneLineFormatter("%(message)s", tracebacks=False).format(record) == "failed"
    assert "ValueError: boom" in OneLineFormatter("%(message)s", tracebacks=True).format(record)
