from pathlib import Path

import pytest

from config import SettingsError, load_settings


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.corpus is None and settings.telegram_token is None and settings.webhook_url is None
    assert settings.telegram_base_url == "https://api.telegram.org/bot"
    assert settings.log_level == "INFO"


def test_environment_and_dot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("STORYBOT_LOG_LEVEL=debug\nSTORYBOT_CORPUS=from-dotenv\nOTHER=ignored\n")
    monkeypatch.setenv("STORYBOT_CORPUS", "from-env")
    monkeypatch.setenv("STORYBOT_TELEGRAM_TOKEN", "123:hunter2")
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.corpus == Path("from-env")
    assert "hunter2" not in repr(settings) and settings.telegram_token.get_secret_value() == "123:hunter2"
    assert load_settings(corpus=Path("flag")).corpus == Path("flag")


@pytest.mark.parametrize(("name", "value"), [("STORYBOT_LOG_LEVEL", "LOUD"), ("STORYBOT_WEBHOOK_URL", "not a url")])
def test_a_bad_value_names_its_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"^{name}: "):
        load_settings()


def test_an_unreadable_dot_env_is_a_settings_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(b"STORYBOT_LOG_LEVEL=\xff\xfe\n")
    with pytest.raises(SettingsError, match=r"^\.env: cannot be read"):
        load_settings()


def test_the_question_limit_cannot_refuse_five_a_minute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="STORYBOT_QUESTIONS_PER_MINUTE"):
        load_settings(questions_per_minute=3)
    assert load_settings().questions_per_minute >= 5
