import pytest

from bot.story import Story, open_story


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
