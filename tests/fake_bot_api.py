"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests: real HTTP, a few real methods.

It answers getMe, getUpdates (long polling), sendMessage, editMessageText, answerCallbackQuery and
answerInlineQuery as Telegram does, checks HTML the way Telegram parses it, and answers any other
method with 404 Not Found, as the real server answers a method it does not know.
"""

import asyncio
import contextlib
import html
import itertools
import json
import random
import re
import socket
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.web import Application, RequestHandler

TOKEN = "123456:FAKE-token-that-must-never-be-logged"
BOT_ID = 123456
USERNAME = "StoryTestBot"
SUPPORTED = {"getMe", "getUpdates", "sendMessage", "editMessageText", "answerCallbackQuery", "answerInlineQuery"}
JSON_FIELDS = {"reply_markup", "reply_parameters", "results", "allowed_updates", "link_preview_options", "entities"}
INT_FIELDS = {"chat_id", "offset", "timeout", "limit", "message_id", "cache_time"}
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
    "tg-emoji",
}
_BARE_AMPERSAND = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


class TelegramHTMLError(ValueError):
    pass


class _TelegramHTML(HTMLParser):
    """Telegram's HTML rules: a few tags, properly nested; only four named entities."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[Any]) -> None:
        if tag not in TELEGRAM_TAGS:
            raise TelegramHTMLError(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise TelegramHTMLError(f'Unmatched end tag "{tag}"')
        self.open.pop()

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            raise TelegramHTMLError(f'Unsupported entity "{name}"')
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            raise TelegramHTMLError("Unescaped angle bracket")
        self.text.append(data)


def parse_telegram_html(text: str) -> str:
    """The visible text of a message Telegram would accept; raises TelegramHTMLError otherwise."""
    if _BARE_AMPERSAND.search(text):
        raise TelegramHTMLError("Bare ampersand")
    if re.search(r"<(?![a-zA-Z/])", text):
        raise TelegramHTMLError("Unescaped angle bracket")
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise TelegramHTMLError(f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"')
    return "".join(parser.text)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None  # what the call returned, when it succeeded


# What can go wrong with a call: a flood wait, server errors, a connection dropped with no answer, a
# reply that comes too late (after the client's 5-second read timeout).
FAULTS = ("429", "500", "502", "503", "drop")
STALL_SECONDS = 6.0


@dataclass
class FakeBotAPI:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    # method -> faults to answer before succeeding: a status (429, 500, ...), "drop" or "stall"
    fail: dict[str, list[int | str]] = field(default_factory=dict[str, Any])
    chaos: float = 0.0  # besides, this share of all calls but getMe get one of FAULTS at random
    chaos_seed: int = 0
    faults: list[str] = field(default_factory=list)  # "method fault", each injected
    rejected: list[str] = field(default_factory=list)  # why each 400 was given
    acknowledged: int = 0  # updates below this id were confirmed by a later getUpdates offset
    port: int = 0

    def __post_init__(self) -> None:
        self._chaos = random.Random(self.chaos_seed)
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self._server: HTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> "FakeBotAPI":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._server = HTTPServer(Application([(r"/bot([^/]+)/(\w+)", _Endpoint, {"api": self})]))
        self._server.add_sockets([sock])
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.stop()
            await self._server.close_all_connections()

    # -- what tests do ------------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, **update})
        self._new_update.set()
        return update_id

    def sent_calls(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        calls = [c for c in self.calls if c.method == method]
        return [c for c in calls if chat_id is None or c.params.get("chat_id") == chat_id]

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[dict[str, Any]]:
        return [c.params for c in self.sent_calls(method, chat_id)]

    async def wait_for(self, method: str, count: int = 1, chat_id: int | None = None, timeout: float = 15) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(self.sent(method, chat_id)) < count:
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"waited {timeout}s for {count} {method} to {chat_id}; calls: {seen}")
            await asyncio.sleep(0.02)
        return self.sent(method, chat_id)

    # -- the methods --------------------------------------------------------------------------

    async def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """The status and body to answer with; None to drop the connection without an answer."""
        self.calls.append(Call(method, params))
        fault: int | str | None = None
        if self.fail.get(method):
            fault = self.fail[method].pop(0)
        elif self.chaos and method != "getMe" and self._chaos.random() < self.chaos:
            fault = self._chaos.choice(FAULTS)
        if fault is not None:
            self.faults.append(f"{method} {fault}")
            if fault == "drop":
                return None
            if fault == "stall":
                await asyncio.sleep(STALL_SECONDS)
            else:
                status = int(fault)
                body: dict[str, Any] = {"ok": False, "error_code": status, "description": "Injected failure"}
                if status == 429:
                    body["parameters"] = {"retry_after": 1}
                return status, body
        if method not in SUPPORTED:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        if method == "getMe":
            return 200, {"ok": True, "result": self.me()}
        if method == "getUpdates":
            return 200, {"ok": True, "result": await self._get_updates(params)}
        if method in ("sendMessage", "editMessageText"):
            status, body = self._message(params)
            self.calls[-1].result = body.get("result")
            return status, body
        return 200, {"ok": True, "result": True}

    @staticmethod
    def me() -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Story",
            "username": USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset") or 0
        self.acknowledged = max(self.acknowledged, offset)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new_update.clear()
            timeout = min(float(params.get("timeout") or 0), 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        return self.updates[: int(params.get("limit") or 100)]

    def _bad_request(self, why: str) -> tuple[int, dict[str, Any]]:
        self.rejected.append(why)
        return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {why}"}

    def _message(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        text = str(params.get("text", ""))
        try:
            visible = parse_telegram_html(text) if params.get("parse_mode") == "HTML" else text
        except TelegramHTMLError as error:
            return self._bad_request(f"can't parse entities: {error}")
        if not visible.strip():
            return self._bad_request("message text is empty")
        if len(visible) > 4096:
            return self._bad_request("message is too long")
        chat_id = params.get("chat_id")
        message = {
            "message_id": params.get("message_id") or next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if int(chat_id or 0) > 0 else "supergroup"},
            "from": self.me(),
            "text": visible,
        }
        return 200, {"ok": True, "result": message}


class _Endpoint(RequestHandler):
    def initialize(self, api: FakeBotAPI) -> None:
        self.api = api

    async def post(self, token: str, method: str) -> None:
        if token != TOKEN:
            self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        outcome = await self.api.handle(method, self._params())
        if outcome is None:
            self.detach().close()  # the connection drops with no answer at all
            return
        self._reply(*outcome)

    get = post

    def _params(self) -> dict[str, Any]:
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            body: dict[str, Any] = json.loads(self.request.body or b"{}")
            return body
        params: dict[str, Any] = {}
        for name, values in self.request.body_arguments.items():
            value: Any = values[0].decode()
            if name in JSON_FIELDS:
                value = json.loads(value)
            elif name in INT_FIELDS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            params[name] = value
        return params

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


# -- updates as Telegram sends them ------------------------------------------------------------

PRIVATE_CHAT = 42
GROUP_CHAT = -100777
USER = {"id": 42, "is_bot": False, "first_name": "Ada", "username": "ada"}


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message_update(
    text: str, chat_id: int = PRIVATE_CHAT, reply_to: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A message as Telegram sends it; in a private chat, from the person whose chat it is."""
    chat = (
        {"id": chat_id, "type": "private", "first_name": "Ada"}
        if chat_id > 0
        else {"id": chat_id, "type": "supergroup", "title": "Readers"}
    )
    message: dict[str, Any] = {
        "message_id": int(time.time() * 1000) % 10**9,
        "date": int(time.time()),
        "chat": chat,
        "from": {**USER, "id": chat_id} if chat_id > 0 else USER,
        "text": text,
        **extra,
    }
    entities = []
    if text.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_length(text.split()[0])})
    for match in re.finditer(r"@\w+", text):
        offset = utf16_length(text[: match.start()])  # Telegram counts in UTF-16 code units
        entities.append({"type": "mention", "offset": offset, "length": utf16_length(match.group())})
    if entities:
        message["entities"] = entities
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"message": message}
