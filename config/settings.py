"""One settings class: every name is STORYBOT_<FIELD>, from the environment or ./.env."""

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, HttpUrl, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from retrieval.errors import StoryBotError

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class SettingsError(StoryBotError):
    """A setting with a bad value; the message names the variable and says what is wrong."""


def _user_cache() -> Path:
    """Where the XDG convention puts a program's caches: $XDG_CACHE_HOME/storybot, else ~/.cache/storybot."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "storybot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STORYBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    corpus: Path | None = None  # None: the story bundled with StoryBot
    cache_dir: Path | None = Field(default_factory=_user_cache)  # None (set empty): index at every start
    webhook_url: HttpUrl | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"  # where the webhook server binds; the public URL may front a proxy
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    questions_per_minute: int = Field(default=20, ge=5)  # per person; 5 a minute is never refused
    start_timeout: float = Field(default=60.0, ge=0)  # seconds start-up calls to the Bot API are retried
    flood_limit: bool = True  # python-telegram-bot's AIORateLimiter, under Telegram's own limits
    allowed_chats: Annotated[frozenset[int] | None, NoDecode] = None  # None: everyone
    log_level: LogLevel = "INFO"
    watch_corpus: bool = True  # `run` and `console` follow the corpus folder: changes show without a restart
    log_questions: bool = False  # who asked what, in each question's INFO line (personal data: off by default)

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret_alphabet(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("Telegram accepts 1 to 256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_only(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and value.scheme != "https":
            raise ValueError("Telegram sends updates only to an https:// URL")
        return value

    @field_validator("telegram_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL, such as https://api.telegram.org/bot")
        return value

    def webhook_open_to_anyone(self) -> bool:
        """A webhook served beyond this machine without a secret would take updates from anyone who finds it."""
        return self.webhook_url is not None and self.webhook_secret is None and not _loopback(self.webhook_listen)

    @field_validator("allowed_chats", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """STORYBOT_ALLOWED_CHATS=123,-100456 as people write it, not as a JSON list."""
        if not isinstance(value, str):
            return value
        try:
            return frozenset(int(part) for part in value.replace(",", " ").split()) or None
        except ValueError:
            raise ValueError("chat ids are whole numbers separated by commas, such as 123,-100456") from None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("corpus", "cache_dir", "webhook_url", "telegram_token", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def load_settings(**overrides: Any) -> Settings:
    """Settings with command-line overrides on top; a bad value becomes one readable line."""
    try:
        return Settings(**{name: value for name, value in overrides.items() if value is not None})
    except ValidationError as error:
        first = error.errors()[0]
        name = "STORYBOT_" + "_".join(str(part) for part in first["loc"]).upper()
        raise SettingsError(f"{name}: {first['msg']}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f".env: cannot be read ({error})") from None
