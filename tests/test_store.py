"""The index kept between runs: used when current, rebuilt with a warning when stale or damaged, never a crash."""

import logging
import os
from pathlib import Path

import numpy as np
import pytest

from bot.story import open_story
from retrieval import store
from retrieval.answer import answer
from retrieval.index import Index
from retrieval.store import stored_path

QUESTION = "When did the ferry Maribel cross the strait?"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "ferries.txt").write_text(
        "Ferries\n\nThe harbour ferry Maribel crossed the strait at dawn. Forty passengers were aboard.\n\n"
        "Storms closed the port of Vellmar for a week in March.\n",
        encoding="utf-8",
    )
    return folder


def no_rebuilding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> Index:
        raise AssertionError("the index was rebuilt")

    monkeypatch.setattr(Index, "build", refuse)


def test_a_stored_index_answers_as_the_fresh_one(corpus: Path, tmp_path: Path, monkeypatch, caplog) -> None:
    fresh = open_story(corpus, tmp_path / "cache")
    assert stored_path(tmp_path / "cache", corpus).is_file()
    assert list((tmp_path / "cache").iterdir()) == [stored_path(tmp_path / "cache", corpus)]  # no temporary left
    no_rebuilding(monkeypatch)
    with caplog.at_level(logging.WARNING):
        stored = open_story(corpus, tmp_path / "cache")
    assert caplog.records == []
    assert answer(stored.index, QUESTION) == answer(fresh.index, QUESTION)
    assert [stored.index.passage(i) for i in range(len(stored.index))] == [
        fresh.index.passage(i) for i in range(len(fresh.index))
    ]
    terms = ["ferri", "dawn"]
    assert stored.index.top_passages(terms, 10) == fresh.index.top_passages(terms, 10)


def test_a_touched_but_unchanged_corpus_keeps_its_index(corpus: Path, tmp_path: Path, monkeypatch, caplog) -> None:
    open_story(corpus, tmp_path / "cache")
    os.utime(corpus / "ferries.txt", ns=(1, 1))
    no_rebuilding(monkeypatch)
    with caplog.at_level(logging.WARNING):
        open_story(corpus, tmp_path / "cache")
    assert caplog.records == []


def test_a_changed_corpus_is_reindexed_with_one_info_line(corpus: Path, tmp_path: Path, caplog) -> None:
    open_story(corpus, tmp_path / "cache")
    (corpus / "ferries.txt").write_text("Ferries\n\nThe ferry Maribel sank off Vellmar in a winter gale.\n")
    with caplog.at_level(logging.INFO, logger="storybot"):
        story = open_story(corpus, tmp_path / "cache")
    (routine,) = [r for r in caplog.records if "out of date" in r.getMessage()]
    assert routine.levelno == logging.INFO  # an edited corpus is routine, not a warning
    assert "sank" in answer(story.index, "Where did the ferry Maribel sink?").quotes[0].text


def test_a_new_analyzer_makes_stored_indexes_stale(corpus: Path, tmp_path: Path, monkeypatch, caplog) -> None:
    open_story(corpus, tmp_path / "cache")
    monkeypatch.setattr(store, "_analyzer", lambda: b"another version of the analyzer")
    with caplog.at_level(logging.INFO, logger="storybot"):
        open_story(corpus, tmp_path / "cache")
    assert "out of date" in caplog.text


@pytest.mark.parametrize("damage", [b"", b"not a zip file at all", b"PK\x03\x04 truncated"])
def test_a_damaged_index_is_rebuilt_and_replaced(corpus: Path, tmp_path: Path, caplog, damage: bytes) -> None:
    open_story(corpus, tmp_path / "cache")
    path = stored_path(tmp_path / "cache", corpus)
    path.write_bytes(damage)
    with caplog.at_level(logging.WARNING):
        story = open_story(corpus, tmp_path / "cache")
    assert "cannot be read" in caplog.text and "rebuilding" in caplog.text
    assert answer(story.index, QUESTION).answered
    caplog.clear()
    open_story(corpus, tmp_path / "cache")
    assert caplog.records == []  # the damaged file was replaced by a good one


def test_index_arrays_that_do_not_fit_together_are_damage(corpus: Path, tmp_path: Path, caplog) -> None:
    open_story(corpus, tmp_path / "cache")
    path = stored_path(tmp_path / "cache", corpus)
    with np.load(path) as stored:
        arrays = dict(stored)
    arrays["s0_sentence_spans"] = arrays["s0_sentence_spans"][:1]
    with path.open("wb") as file:
        np.savez(file, **arrays)
    with caplog.at_level(logging.WARNING):
        story = open_story(corpus, tmp_path / "cache")
    assert "do not fit together" in caplog.text
    assert answer(story.index, QUESTION).answered


def test_a_cache_that_cannot_be_written_costs_only_a_warning(corpus: Path, tmp_path: Path, caplog) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING):
        story = open_story(corpus, blocked)
    assert "cannot keep the index" in caplog.text
    assert answer(story.index, QUESTION).answered
