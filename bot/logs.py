"""Logging for every channel: one line per record on stderr, with secrets blotted out.

Secrets are removed when a record is made, before any handler sees it: whichever library logs the
token (httpx logs every request URL, and the Bot API puts the token in the URL), in its message,
its arguments or the text of an exception, and whichever handler writes it, the token is gone.
"""

import logging
import sys
import traceback
from collections.abc import Callable

REDACTED = "[REDACTED]"


def redact(record: logging.LogRecord, secrets: list[str]) -> logging.LogRecord:
    """The record with every secret replaced in its message and its exception text."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed call; logging reports it when the record is written
        return record
    if any(secret in message for secret in secrets):
        for secret in secrets:
            message = message.replace(secret, REDACTED)
        record.msg, record.args = message, ()
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    for name in ("exc_text", "stack_info"):
        text = getattr(record, name)
        if text:
            for secret in secrets:
                text = text.replace(secret, REDACTED)
            setattr(record, name, text)
    return record


def install_redaction(secrets: list[str]) -> Callable[..., logging.LogRecord]:
    """Make every log record, from every logger, pass through redact(); returns the factory it replaced."""
    secrets = [secret for secret in secrets if secret]
    previous = logging.getLogRecordFactory()
    if secrets:
        logging.setLogRecordFactory(lambda *args, **kwargs: redact(previous(*args, **kwargs), secrets))
    return previous


class OneLineFormatter(logging.Formatter):
    """Tracebacks only when debugging: at other levels a record stays one line."""

    def __init__(self, fmt: str, tracebacks: bool) -> None:
        super().__init__(fmt)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks:
            return super().format(record)
        kept = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = kept


def configure_logging(level: str, secrets: list[str], prog: str = "storybot") -> None:
    install_redaction(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(f"{prog}: %(levelname)s: %(message)s", tracebacks=level == "DEBUG"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx reports every request at INFO; the Bot API is polled constantly, so that is noise
    # unless one is debugging (and then the token in each URL is still blotted out).
    if level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
