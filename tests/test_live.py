"""The live corpus: files added, changed and removed while the bot serves show in its answers, without a restart."""

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

import bot.live
import bot.story
from bot.live import LiveCorpus, following
from bot.story import Story, open_story
from config import Settings
from retrieval import Document, answer
from tests.fake_bot_api import PRIVATE_CHAT, TOKEN, FakeBotAPI, message_update
from tests.test_run import free_port, start, stop

FERRY = "Ferries\n\nThe ferry Maribel sank off Vellmar in a winter gale. All of its crew were saved by fishermen.\n"
TRAIN = "Trains\n\nThe armoured train crawled to Vladivostok through the night. It carried the leader and his guards.\n"
EDITED = "Trains\n\nThe armoured train raced to Pyongyang before dawn. It carried the leader and his guards.\n"
TRAIN_QUESTION = "Where did the armoured train go?"
WAIT = 30.0  # seconds any change may take to show: generous, as tests never measure speed


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "ferries.txt").write_text(FERRY, encoding="utf-8")
    return folder


def quoted_text(story: Story, question: str) -> str:
    return " ".join(quote.text for quote in answer(story.index, question).quotes)


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


@pytest.fixture
async def live(corpus: Path) -> AsyncIterator[LiveCorpus]:
    following = LiveCorpus(open_story(corpus, live=True), quiet=0.2, poll=0.2)
    await following.start()
    yield following
    await following.stop()


def doc_ids(story: Story) -> set[str]:
    return {source.doc_id for source in story.index.sources}


async def test_a_file_added_then_edited_then_removed_shows_in_answers(
    live: LiveCorpus, corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    story = live.story
    caplog.set_level(logging.INFO, "storybot.corpus")
    assert "Vladivostok" not in quoted_text(story, TRAIN_QUESTION)
    (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")
    await until(lambda: "Vladivostok" in quoted_text(story, TRAIN_QUESTION), "the added file is not answered from")
    (corpus / "trains.txt").write_text(EDITED, encoding="utf-8")
    await until(lambda: "Pyongyang" in quoted_text(story, TRAIN_QUESTION), "the edit is not answered from")
    assert "Vladivostok" not in quoted_text(story, TRAIN_QUESTION)
    (corpus / "trains.txt").unlink()
    await until(lambda: doc_ids(story) == {"ferries.txt"}, "the removed file is still served")
    assert "Pyongyang" not in quoted_text(story, TRAIN_QUESTION)
    assert "Maribel" in quoted_text(story, "Where did the ferry Maribel sink?")  # the rest served throughout
    lines = [record.getMessage() for record in caplog.records if record.name == "storybot.corpus"]
    assert any(line.startswith("added trains.txt: 1 paragraph (") and " s" in line for line in lines), lines
    assert any(line.startswith("changed trains.txt: 1 paragraph (") for line in lines), lines
    assert any(line.startswith("removed trains.txt (") for line in lines), lines


async def test_changes_that_settle_together_are_one_update(
    live: LiveCorpus, corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "storybot.corpus")
    outside = corpus.parent / "more"  # written outside, then moved in at once: however slow the machine, one change
    outside.mkdir()
    for n in range(3):
        (outside / f"{n}.txt").write_text(TRAIN.replace("night", f"night {n}"), encoding="utf-8")
    outside.rename(corpus / "more")
    await until(lambda: len(doc_ids(live.story)) == 4, "the new folder's files are not served")
    lines = [record.getMessage() for record in caplog.records if record.name == "storybot.corpus"]
    assert sum("one update of 3 files" in line for line in lines) == 3, lines


async def test_a_file_written_in_two_halves_is_never_indexed_half(corpus: Path) -> None:
    story = open_story(corpus, live=True)
    live = LiveCorpus(story)  # the quiet interval as served: about a second
    halves = []  # what the index held of the file, each time it held it

    async def watch() -> None:
        while True:
            if "trains.txt" in doc_ids(story):
                halves.append(story.index.passage_counts()[-1])
            await asyncio.sleep(0.01)

    await live.start()
    watcher = asyncio.create_task(watch())
    try:
        with (corpus / "trains.txt").open("w", encoding="utf-8") as file:
            file.write(TRAIN)
            file.flush()
            await asyncio.sleep(0.3)  # a writer pausing, well within the quiet interval
            file.write("\nThe second half came later. It told of the return journey in the spring.\n")
        await until(lambda: "trains.txt" in doc_ids(story), "the whole file is not served")
        await asyncio.sleep(0.2)
    finally:
        watcher.cancel()
        await live.stop()
    assert halves and set(halves) == {2}, halves


async def test_a_file_written_again_while_it_is_read_is_read_again(corpus: Path, monkeypatch) -> None:
    story = open_story(corpus, live=True)
    real_read = bot.live.read_file
    reads: list[int] = []

    def read_then_append(listing, file: Path) -> Document:  # the writer comes back just as the file is read
        document = real_read(listing, file)
        reads.append(len(document.paragraphs))
        if len(reads) == 1:
            with file.open("a", encoding="utf-8") as more:
                more.write("\nThe second half came later. It told of the return journey in the spring.\n")
        return document

    monkeypatch.setattr(bot.live, "read_file", read_then_append)
    live = LiveCorpus(story, quiet=0.0, poll=0.2)
    await live.start()
    try:
        (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")
        await until(lambda: "trains.txt" in doc_ids(story), "the file is not served")
    finally:
        await live.stop()
    assert reads[0] == 1 and reads[-1] == 2
    assert story.index.passage_counts()[-1] == 2


async def test_an_unreadable_file_costs_a_warning_and_changes_nothing(
    live: LiveCorpus, corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    story, served = live.story, live.story.index
    (corpus / "broken.txt").write_bytes(b"\x00\x01\x02 binary")
    (corpus / "ferries.txt").write_text("", encoding="utf-8")  # a served file emptied: its old text stays
    await until(lambda: len(warnings(caplog)) >= 2, "no warning")
    await asyncio.sleep(1.0)  # more looks at the corpus: no second warning, no new index
    assert sorted(warnings(caplog)) == [
        "skipped broken.txt: it is binary, not text",
        "skipped ferries.txt: it is empty: the story keeps it as it was",
    ]
    assert story.index is served
    assert "Maribel" in quoted_text(story, "Where did the ferry Maribel sink?")


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "storybot.corpus" and r.levelno == logging.WARNING]


async def test_removing_the_last_document_keeps_the_story(
    live: LiveCorpus, corpus: Path, caplog: pytest.LogCaptureFixture
) -> None:
    story, served = live.story, live.story.index
    (corpus / "ferries.txt").unlink()
    await until(lambda: bool(warnings(caplog)), "no warning")
    (warning,) = warnings(caplog)
    assert warning == "removing ferries.txt would leave the story with nothing to quote: still serving it as it was"
    assert story.index is served
    (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")  # the next document replaces the one kept
    await until(lambda: doc_ids(story) == {"trains.txt"}, "the kept document outlived the next one")


@pytest.mark.parametrize("how", ["watching fails", "watching off"])
async def test_the_listing_is_checked_where_the_corpus_cannot_be_watched(
    corpus: Path, monkeypatch, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    import watchfiles

    async def refuse(*args: object, **kwargs: object) -> AsyncIterator[set[object]]:
        raise OSError(28, "OS file watch limit reached")
        yield set()

    monkeypatch.setattr(watchfiles, "awatch", refuse)
    story = open_story(corpus, live=True)
    live = LiveCorpus(story, quiet=0.2, poll=0.3, watch=how == "watching fails")
    await live.start()
    try:
        (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")
        await until(lambda: "Vladivostok" in quoted_text(story, TRAIN_QUESTION), "the listing check missed the file")
        (corpus / "trains.txt").unlink()
        await until(lambda: doc_ids(story) == {"ferries.txt"}, "the listing check missed the removal")
    finally:
        await live.stop()
    expected = [f"cannot watch {corpus} (OS file watch limit reached): checking its listing every 0.3 s instead"]
    assert warnings(caplog) == (expected if how == "watching fails" else [])


async def test_the_watcher_stops_at_shutdown_with_nothing_left_running(live: LiveCorpus, corpus: Path) -> None:
    (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")
    await until(lambda: "trains.txt" in doc_ids(live.story), "the file is not served")
    assert live.running
    await live.stop()
    assert not live.running
    assert asyncio.all_tasks() == {asyncio.current_task()}
    served = live.story.index
    (corpus / "later.txt").write_text(TRAIN, encoding="utf-8")
    await asyncio.sleep(1.0)
    assert live.story.index is served  # no longer followed


def test_the_console_follows_the_corpus_from_a_thread_of_its_own(corpus: Path) -> None:
    story = open_story(corpus, live=True)
    before = set(threading.enumerate())
    with following(LiveCorpus(story, quiet=0.2)):
        (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")
        asyncio.run(until(lambda: "trains.txt" in doc_ids(story), "the file is not served"))
    assert not [thread for thread in set(threading.enumerate()) - before if thread.name == "storybot: corpus"]


async def test_paragraph_buttons_follow_the_live_index(live: LiveCorpus, corpus: Path) -> None:
    from bot.telegram.handlers import PARAGRAPH_BUTTON, Handlers, document_key

    handlers = Handlers(live.story, Settings(_env_file=None))
    data = f"{PARAGRAPH_BUTTON}:{document_key('trains.txt')}:1"
    assert handlers._paragraph(data) is None
    (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")
    await until(lambda: handlers._paragraph(data) is not None, "a button for the new file finds nothing")


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_run_answers_from_a_file_added_edited_and_removed_while_it_serves(
    api: FakeBotAPI, corpus: Path, tmp_path: Path, mode: str
) -> None:
    settings = {"telegram_token": TOKEN, "telegram_base_url": api.base_url, "corpus": str(corpus)}
    port = free_port()
    if mode == "webhook":
        settings |= {"webhook_url": "https://bot.example.org/hook", "webhook_listen": "127.0.0.1"}
        settings |= {"webhook_port": str(port), "webhook_secret": "s3cret"}
    process = await start(tmp_path, **settings)
    chat = iter(range(PRIVATE_CHAT + 1, PRIVATE_CHAT + 1000))  # one chat a question: no limit, no follow-ups
    updates = iter(range(1, 1000))

    async def deliver(update: dict) -> None:
        if mode == "polling":
            api.push(update)
            return
        async with httpx.AsyncClient() as client:
            for _ in range(300):  # until the server listens
                try:
                    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
                    url = f"http://127.0.0.1:{port}/hook"
                    await client.post(url, json={"update_id": next(updates), **update}, headers=headers)
                    return
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)

    async def answered_with(word: str) -> bool:
        asked = next(chat)
        await deliver(message_update(TRAIN_QUESTION, chat_id=asked))
        (reply,) = await api.wait_for("sendMessage", chat_id=asked, timeout=60)
        return word in reply["text"]

    async def eventually(word: str, present: bool = True) -> None:
        deadline = asyncio.get_running_loop().time() + WAIT
        while await answered_with(word) != present:
            assert process.returncode is None, "the bot stopped"
            assert asyncio.get_running_loop().time() < deadline, f"{word} {'never' if present else 'still'} answered"
            await asyncio.sleep(0.3)

    try:
        assert not await answered_with("Vladivostok")
        (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")
        await eventually("Vladivostok")
        (corpus / "trains.txt").write_text(EDITED, encoding="utf-8")
        await eventually("Pyongyang")
        assert not await answered_with("Vladivostok")
        (corpus / "trains.txt").unlink()
        await eventually("Pyongyang", present=False)
    finally:
        status, output = await stop(process)
    assert status == 0, output
    assert "added trains.txt: 1 paragraph" in output and "removed trains.txt" in output
    assert "Traceback" not in output and TOKEN not in output


async def test_questions_are_answered_from_the_old_index_until_the_new_one_is_ready(corpus: Path, monkeypatch) -> None:
    story = open_story(corpus, live=True)
    building, release = threading.Event(), threading.Event()
    real_updated = bot.live._updated

    def slow_updated(*args: object) -> object:  # an update of a large archive, still under way
        building.set()
        release.wait(WAIT)
        return real_updated(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.live, "_updated", slow_updated)
    live = LiveCorpus(story, quiet=0.2, poll=0.2)
    await live.start()
    try:
        (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")
        await until(building.is_set, "no update began")
        for _ in range(20):  # the event loop answers meanwhile, from the index in use
            assert "Vladivostok" not in quoted_text(story, TRAIN_QUESTION)
            assert "Maribel" in quoted_text(story, "Where did the ferry Maribel sink?")
            await asyncio.sleep(0.01)
        release.set()
        await until(lambda: "Vladivostok" in quoted_text(story, TRAIN_QUESTION), "the update never came")
    finally:
        release.set()
        await live.stop()


async def test_an_update_is_kept_on_disk_so_that_a_restart_starts_from_it(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    following = LiveCorpus(open_story(corpus, cache, live=True), quiet=0.2, poll=0.2)
    kept_at = following.story.kept_at
    assert kept_at is not None and kept_at.is_file()
    first = kept_at.stat().st_mtime_ns
    await following.start()
    try:
        (corpus / "trains.txt").write_text(TRAIN, encoding="utf-8")
        await until(lambda: "Vladivostok" in quoted_text(following.story, TRAIN_QUESTION), "not answered from")
        await until(lambda: kept_at.stat().st_mtime_ns != first, "the updated index is not kept")
    finally:
        await following.stop()

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("the corpus was indexed again")

    monkeypatch.setattr(bot.story, "load_corpus", refuse)
    restarted = open_story(corpus, cache)
    assert doc_ids(restarted) == {"ferries.txt", "trains.txt"}
    assert "Vladivostok" in quoted_text(restarted, TRAIN_QUESTION)


def test_an_update_killed_while_it_is_kept_leaves_the_index_kept_before(corpus: Path, tmp_path: Path) -> None:
    """The index is written beside the kept one and renamed over it: a process killed mid-write leaves the old one."""
    cache = tmp_path / "cache"
    story = open_story(corpus, cache)
    assert story.kept_at is not None
    before = story.kept_at.read_bytes()
    killed = subprocess.run([sys.executable, "-c", _KILLED_WHILE_KEEPING, str(corpus), str(cache), TRAIN], timeout=120)
    assert killed.returncode == -signal.SIGKILL
    assert story.kept_at.read_bytes() == before
    leftovers = [path for path in cache.iterdir() if path != story.kept_at]
    assert len(leftovers) == 1  # the half-written file, beside the kept one
    (corpus / "trains.txt").unlink()
    assert doc_ids(open_story(corpus, cache)) == {"ferries.txt"}  # the old index, usable
    os.utime(leftovers[0], (1, 1))  # long untouched: the next index kept clears it away
    (corpus / "ships.txt").write_text(FERRY, encoding="utf-8")
    open_story(corpus, cache)
    assert sorted(cache.iterdir()) == [story.kept_at]


# Updates the index with the added file, and is killed halfway through writing it.
_KILLED_WHILE_KEEPING = """
import os, signal, sys
from pathlib import Path
import numpy as np
import bot.live
from bot.story import open_story
from retrieval import read_file, corpus_files

corpus, cache = Path(sys.argv[1]), Path(sys.argv[2])
story = open_story(corpus, cache, live=True)  # the kept index, current
(corpus / "trains.txt").write_text(sys.argv[3], encoding="utf-8")
listing = corpus_files(corpus)
story.index = story.index.updated([read_file(listing, corpus / "trains.txt")])
def die_halfway(file, **arrays):
    file.write(b"PK\\x03\\x04 half an archive")
    file.flush()
    os.kill(os.getpid(), signal.SIGKILL)
np.savez = die_halfway
bot.live._keep(story, story.index, bot.live.take_listing(corpus)[1])
"""
