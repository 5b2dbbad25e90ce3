from collections.abc import AsyncIterator

import pytest

from bot.story import Story, open_story
from tests.fake_bot_api import FakeBotAPI


@pytest.fixture(scope="session")
def story() -> Story:
    """The bundled story, indexed once for the whole run."""
    return open_story(None)


@pytest.fixture(autouse=True)
def _no_storybot_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from the developer's shell must not leak into tests."""
    import os

    for name in list(os.environ):
        if name.startswith("STORYBOT_"):
            monkeypatch.delenv(name)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """A fake Bot API server on 127.0.0.1, for the length of one test."""
    server = await FakeBotAPI().start()
    yield server
    await server.stop()
