"""The webhook server: Telegram's updates, checked before their bodies are read.

python-telegram-bot's own webhook server runs on tornado but reads a whole body before it looks at
the secret, so anyone who finds the URL can make the bot hold any number of large bodies. This is
the same tornado server with one streaming handler: the secret and the declared length are checked
from the headers, a refused body is never read (tornado closes the connection instead), and an
accepted one is held only up to MAX_UPDATE_BYTES.
"""

import asyncio
import hmac
import json
import logging
from http import HTTPStatus
from typing import Any

from telegram import Update
from telegram.ext import ExtBot
from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler, stream_request_body

log = logging.getLogger("storybot.webhook")

# Telegram's updates are a few kilobytes; a megabyte is generous.
MAX_UPDATE_BYTES = 1 << 20
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@stream_request_body
class UpdateEndpoint(RequestHandler):
    """POSTs of one Update as JSON, from Telegram: refused before reading unless they carry the secret."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, bot: ExtBot[Any], updates: "asyncio.Queue[object]", secret: str | None) -> None:
        self.bot = bot
        self.updates = updates
        self.secret = secret
        self.body = bytearray()
        self.forbidden = False

    def prepare(self) -> None:
        """Runs on the headers alone, before any of the body is read."""
        declared = self.request.headers.get("Content-Length")
        small = declared is not None and declared.isdigit() and int(declared) <= MAX_UPDATE_BYTES
        given = self.request.headers.get(SECRET_HEADER, "")
        if self.secret is not None and not hmac.compare_digest(given.encode(), self.secret.encode()):
            if not small:  # refused at once; tornado closes the connection rather than read what follows
                self._refuse(HTTPStatus.FORBIDDEN)
            # A small body is let through unkept, so that the 403 is not lost to a connection reset.
            self.forbidden = True
            return
        if declared is not None and not small:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    def data_received(self, chunk: bytes) -> None:
        if self._finished or self.forbidden:
            return
        if len(self.body) + len(chunk) > MAX_UPDATE_BYTES:  # a chunked body declares no length
            self.body.clear()
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        self.body += chunk

    async def post(self) -> None:
        if self.forbidden:
            self._refuse(HTTPStatus.FORBIDDEN)
            return
        try:
            update = Update.de_json(json.loads(self.body), self.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            self._refuse(HTTPStatus.BAD_REQUEST)
            return
        finally:
            self.body.clear()
        await self.updates.put(update)
        self.finish()

    def _refuse(self, status: HTTPStatus) -> None:
        log.info("webhook call refused: %d %s", status.value, status.phrase)
        self.set_status(status.value)
        self.finish()

    def log_exception(self, *args: Any) -> None:
        """tornado's traceback for a bad request would be noise in the bot's log."""


class _QuietApplication(Application):
    def log_request(self, handler: RequestHandler) -> None:
        """Telegram calls the webhook for every update: a line each would drown the log."""


def webhook_server(bot: ExtBot[Any], updates: "asyncio.Queue[object]", path: str, secret: str | None) -> HTTPServer:
    """The server, not yet listening: `listen()` binds it and raises OSError when the port is taken."""
    route = rf"/{path.strip('/')}/?" if path.strip("/") else r"/?"
    application = _QuietApplication([(route, UpdateEndpoint, {"bot": bot, "updates": updates, "secret": secret})])
    # tornado's own cap is only a backstop, set above ours so that the handler answers 413 first.
    return HTTPServer(application, max_body_size=4 * MAX_UPDATE_BYTES, idle_connection_timeout=60, body_timeout=10)
