"""Logging for every channel: one line per record on stderr, with secrets blotted out."""

import logging
import sys


class RedactingFormatter(logging.Formatter):
    """Formats a record, then removes every secret from the whole text, tracebacks included.

    Redacting the formatted text rather than the message catches secrets in arguments, exception
    texts and URLs logged by any library (httpx logs each request URL, token and all).
    """

    def __init__(self, fmt: str, secrets: list[str], tracebacks: bool) -> None:
        super().__init__(fmt)
        self.secrets = [secret for secret in secrets if secret]
        self.tracebacks = tracebacks

    def formatException(self, ei) -> str:
        """Tracebacks only when debugging: at other levels a record stays one line."""
        return super().formatException(ei) if self.tracebacks else ""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[REDACTED]")
        return text


def configure_logging(level: str, secrets: list[str], prog: str = "storybot") -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = RedactingFormatter(f"{prog}: %(levelname)s: %(message)s", secrets, tracebacks=level == "DEBUG")
    handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx reports every request at INFO; the Bot API is polled constantly, so that is noise
    # unless one is debugging (and then the formatter still blots out the token in each URL).
    if level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)
