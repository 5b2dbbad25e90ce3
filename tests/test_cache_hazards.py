"""Whatever lies where the stored index should be: one warning and a rebuild, never a hang, a crash or a bomb inflated.

Issue 12, item 7. A FIFO, a device or a folder in place of the file; an archive whose members inflate or allocate far
beyond what any index of the corpus takes; arrays that load but do not fit together; a corpus edited while indexed.
"""

import contextlib
import io
import logging
import os
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.story
import retrieval.store
from bot.story import Story, open_story
from retrieval.answer import answer
from retrieval.index import Index
from retrieval.store import Fingerprint, StaleIndex, UnusableIndex, load, stored_path

QUESTION = "When did the ferry Maribel cross the strait?"
T = TypeVar("T")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


def write_corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "ferries.txt").write_text(
        "Ferries\n\nThe harbour ferry Maribel crossed the strait at dawn. Forty passengers were aboard.\n\n"
        "Storms closed the port of Vellmar for a week in March. The café on the quay stayed open.\n",
        encoding="utf-8",
    )
    (folder / "port.md").write_text(
        "# The port\n\nVellmar's harbour master counted nine ferries in the winter. Ice closed the strait twice.\n",
        encoding="utf-8",
    )
    return folder


def finishes(call: Callable[[], T], release: Path | None = None) -> T:
    """call()'s result, provided it returns in a minute; a FIFO given as release is opened for writing afterwards,
    so that a reader stuck on it (the fault under test) is let go."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:  # handed to the test's thread below
            failure.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    hung = worker.is_alive()
    if release is not None and hung:
        _let_go(release)
    assert not hung, "it hung"
    if failure:
        raise failure[0]
    return outcome[0]


def _let_go(fifo: Path) -> None:
    with contextlib.suppress(OSError):  # no reader is waiting: nothing to let go
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


def rebuild_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "rebuilding" in r.getMessage()]


def exercise(story: Story, intact: bool = True) -> None:
    """What questions make an index do: every passage and quote, citations, BM25, meaning, respelling; and, unless the
    index may be damaged where it is not checked, the right answer."""
    index = story.index
    for number in range(len(index)):
        passage = index.passage(number)
        passage.quote(0, len(passage.sentences) - 1)
        assert passage.terms is not None
        assert index.passage_at(passage.source.doc_id, passage.paragraph) == passage
    assert sum(index.passage_counts()) == len(index)
    index.top_passages(list(index.terms), 10)
    index.nearest_passages(index.embed("winter storms"), 3)
    index.term_for("Maribbel")
    for question in (QUESTION, "Who counted the ferries?", "What happened in March?"):
        answer(index, question)
    assert answer(index, QUESTION).answered or not intact


def stored_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as stored:
        return dict(stored)


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with path.open("wb") as file:
        np.savez(file, **arrays)  # type: ignore[arg-type]


# -- not a regular file -----------------------------------------------------------------------------------------------


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_folder(path: Path) -> None:
    path.mkdir()


def make_socket(path: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX)
    here = Path.cwd()
    os.chdir(path.parent)  # a socket's address is short: bind it by its bare name
    try:
        listener.bind(path.name)
    finally:
        os.chdir(here)
    return listener


def link_to(device: str) -> Callable[[Path], None]:
    return lambda path: path.symlink_to(device)


@pytest.mark.parametrize(
    "make",
    [make_fifo, make_folder, make_socket, link_to("/dev/zero"), link_to("/dev/null"), link_to("/nowhere")],
    ids=["fifo", "folder", "socket", "dev-zero", "dev-null", "dangling-link"],
)
def test_what_is_not_a_regular_file_in_place_of_the_index_is_rebuilt_without_hanging(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, make: Callable[[Path], object]
) -> None:
    path = stored_path(tmp_path / "cache", corpus)
    path.parent.mkdir()
    made = make(path)
    try:
        with caplog.at_level(logging.WARNING):
            story = finishes(lambda: open_story(corpus, tmp_path / "cache"), release=path)
    finally:
        if isinstance(made, socket.socket):
            made.close()
    assert len(rebuild_warnings(caplog)) == 1
    exercise(story)


def test_a_fifo_in_place_of_the_index_is_never_opened(corpus: Path, tmp_path: Path, monkeypatch) -> None:
    path = stored_path(tmp_path / "cache", corpus)
    path.parent.mkdir()
    os.mkfifo(path)
    opened: list[str] = []

    def spying(real: Callable[..., T]) -> Callable[..., T]:
        def spy(file: str | bytes | os.PathLike[str], *args: object, **kwargs: object) -> T:
            opened.append(os.fsdecode(file))
            return real(file, *args, **kwargs)

        return spy

    monkeypatch.setattr(os, "open", spying(os.open))
    monkeypatch.setattr(io, "open", spying(io.open))
    with pytest.raises(UnusableIndex, match="not a regular file"):
        finishes(lambda: load(path, Fingerprint(corpus)), release=path)
    assert str(path) not in opened


# -- bombs: more declared than any index of this corpus takes ---------------------------------------------------------

BOMB_BYTES = 256 << 20  # a quarter of a gigabyte of zeros: about 250 kB deflated


def npy_header(shape: tuple[int, ...], dtype: str = "|u1") -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False, "shape": shape})
    return header.getvalue()


def write_with_bomb(path: Path, arrays: dict[str, np.ndarray], name: str) -> None:
    """The genuine arrays, with member `name` (replaced or added) a deflated run of zeros."""
    genuine = io.BytesIO()
    np.savez(genuine, **{key: value for key, value in arrays.items() if key != name})  # type: ignore[arg-type]
    with zipfile.ZipFile(genuine) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        info = zipfile.ZipInfo(f"{name}.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        with target.open(info, "w", force_zip64=True) as member:
            member.write(npy_header((BOMB_BYTES,)))
            zeros = bytes(1 << 20)
            for _ in range(BOMB_BYTES >> 20):
                member.write(zeros)


@pytest.fixture
def inflated(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many bytes members of zip archives gave out while the test ran."""
    counted = [0]
    real_read = zipfile.ZipExtFile.read

    def read(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        data = real_read(self, n)
        counted[0] += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    yield counted


@pytest.mark.parametrize("member", ["s0_texts_buffer", "listing", "an_extra_member"])
def test_an_archive_that_would_inflate_to_a_quarter_gigabyte_is_not_inflated(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, inflated: list[int], member: str
) -> None:
    open_story(corpus, tmp_path / "cache")
    path = stored_path(tmp_path / "cache", corpus)
    write_with_bomb(path, stored_arrays(path), member)
    assert path.stat().st_size < BOMB_BYTES // 100
    with caplog.at_level(logging.WARNING):
        story = open_story(corpus, tmp_path / "cache")
    assert inflated[0] < BOMB_BYTES // 100
    assert len(rebuild_warnings(caplog)) == 1
    exercise(story)


def write_with_header(path: Path, arrays: dict[str, np.ndarray], name: str, header: bytes) -> None:
    """The genuine arrays, with member `name` stored as a header that promises what its few bytes do not hold."""
    genuine = io.BytesIO()
    np.savez(genuine, **{key: value for key, value in arrays.items() if key != name})  # type: ignore[arg-type]
    with zipfile.ZipFile(genuine) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr(f"{name}.npy", header + bytes(16))


@pytest.mark.parametrize(
    "header",
    [
        npy_header((1 << 40,)),  # a terabyte: numpy allocates it before reading a byte
        npy_header((1 << 31, 1 << 31)),
        npy_header((1 << 62,), "<i8"),  # more than numpy can count
        npy_header((4,), "|O"),  # a pickle
        npy_header((-1,)),
        b"\x93NUMPY\x09\x00" + bytes(8),  # an unknown format version
    ],
)
def test_a_header_that_promises_more_than_its_member_holds_is_refused(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, header: bytes
) -> None:
    open_story(corpus, tmp_path / "cache")
    path = stored_path(tmp_path / "cache", corpus)
    write_with_header(path, stored_arrays(path), "s0_texts_buffer", header)
    with caplog.at_level(logging.WARNING):
        story = open_story(corpus, tmp_path / "cache")
    assert len(rebuild_warnings(caplog)) == 1
    exercise(story)


def test_pickles_stay_refused(corpus: Path, tmp_path: Path, monkeypatch, caplog: pytest.LogCaptureFixture) -> None:
    open_story(corpus, tmp_path / "cache")
    path = stored_path(tmp_path / "cache", corpus)
    arrays = stored_arrays(path)
    arrays["s0_titles_buffer"] = np.array([{"a": "pickled"}], dtype=object)
    write_arrays(path, arrays)
    import pickle

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("a pickle was loaded")

    monkeypatch.setattr(pickle, "load", refuse)
    with caplog.at_level(logging.WARNING):
        story = open_story(corpus, tmp_path / "cache")
    assert len(rebuild_warnings(caplog)) == 1
    exercise(story)


# -- arrays that load but do not fit together ------------------------------------------------------------------------


def setting(name: str, at: int, value: object) -> Callable[[dict[str, np.ndarray]], None]:
    def damage(arrays: dict[str, np.ndarray]) -> None:
        arrays[name] = arrays[name].copy()
        arrays[name].reshape(-1)[at] = value

    damage.__name__ = f"{name}[{at}]={value}"
    return damage


def retyped(name: str, dtype: str) -> Callable[[dict[str, np.ndarray]], None]:
    def damage(arrays: dict[str, np.ndarray]) -> None:
        arrays[name] = arrays[name].astype(dtype)

    damage.__name__ = f"{name} as {dtype}"
    return damage


def reshaped(name: str, shape: tuple[int, ...]) -> Callable[[dict[str, np.ndarray]], None]:
    def damage(arrays: dict[str, np.ndarray]) -> None:
        arrays[name] = arrays[name].reshape(shape)

    damage.__name__ = f"{name} reshaped"
    return damage


def cut(name: str, keep: slice) -> Callable[[dict[str, np.ndarray]], None]:
    def damage(arrays: dict[str, np.ndarray]) -> None:
        arrays[name] = arrays[name][keep]

    damage.__name__ = f"{name}[{keep.start}:{keep.stop}]"
    return damage


def reversed_(name: str) -> Callable[[dict[str, np.ndarray]], None]:
    def damage(arrays: dict[str, np.ndarray]) -> None:
        arrays[name] = arrays[name][::-1].copy()

    damage.__name__ = f"{name} reversed"
    return damage


def removed(name: str) -> Callable[[dict[str, np.ndarray]], None]:
    def damage(arrays: dict[str, np.ndarray]) -> None:
        del arrays[name]

    damage.__name__ = f"no {name}"
    return damage


def added(arrays: dict[str, np.ndarray]) -> None:
    arrays["surplus"] = np.zeros(3, dtype=np.int64)


def shifted_paragraphs(arrays: dict[str, np.ndarray]) -> None:
    arrays["s0_passage_paragraph"] = arrays["s0_passage_paragraph"] - 1  # the first paragraph becomes number 0


def spans_beyond_the_text(arrays: dict[str, np.ndarray]) -> None:
    arrays["s0_sentence_spans"] = arrays["s0_sentence_spans"] + 1000


def overlapping_spans(arrays: dict[str, np.ndarray]) -> None:
    spans = arrays["s0_sentence_spans"].copy()
    spans[1, 0] = spans[0, 0]  # the second sentence of the first paragraph starts where the first does
    arrays["s0_sentence_spans"] = spans


def inside_a_character(arrays: dict[str, np.ndarray]) -> None:
    """A cut in the middle of "é": each side is invalid UTF-8."""
    buffer, offsets = arrays["s0_texts_buffer"], arrays["s0_texts_offsets"].copy()
    offsets[1] = int(np.flatnonzero(buffer == 0xC3)[0]) + 1
    arrays["s0_texts_offsets"] = offsets


def passage_without_sentences(arrays: dict[str, np.ndarray]) -> None:
    sentences = arrays["s0_passage_sentences"].copy()
    sentences[1] = sentences[0]
    arrays["s0_passage_sentences"] = sentences


def pickled_listing(arrays: dict[str, np.ndarray]) -> None:
    arrays["listing"] = np.array([1, 2, 3])


DAMAGE = [
    setting("s0_bm25_passages", 0, 10_000),
    setting("s0_bm25_passages", 0, -1),
    setting("s0_bm25_offsets", 1, 10_000),
    setting("s0_bm25_offsets", -1, 1),
    setting("s0_bm25_counts", 0, 0),
    setting("s0_passage_lengths", 0, 0),
    setting("s0_sentence_terms", 0, 10_000),
    setting("s0_sentence_terms", 0, -1),
    setting("s0_sentence_term_offsets", 1, 10_000),
    setting("s0_sentence_term_offsets", 0, 1),
    setting("s0_sentence_spans", 0, -5),
    setting("s0_sentence_spans", 1, 0),
    setting("s0_passage_sentences", 1, 10_000),
    setting("s0_passage_sentences", 0, 1),
    setting("s0_passage_source", 0, 5),
    setting("s0_passage_source", -1, -1),
    setting("s0_passage_paragraph", 0, -3),
    setting("s0_texts_offsets", 1, 10_000),
    setting("s0_texts_offsets", -1, 5),
    setting("s0_texts_offsets", 0, 3),
    setting("s0_texts_buffer", 0, 0xFF),
    setting("s0_words_offsets", 1, 0),
    setting("terms_offsets", 1, 10_000),
    setting("s0_doc_ids_offsets", -1, 3),
    retyped("s0_passage_sentences", "float64"),
    retyped("s0_sentence_spans", "float32"),
    retyped("s0_bm25_passages", "int64"),
    retyped("s0_texts_buffer", "int16"),
    retyped("s0_bm25_counts", "<U3"),
    reshaped("s0_passage_paragraph", (-1, 1)),
    reshaped("s0_sentence_spans", (-1,)),
    cut("s0_sentence_spans", slice(0, 1)),
    cut("s0_passage_source", slice(1, None)),
    cut("s0_bm25_counts", slice(1, None)),
    cut("s0_titles_offsets", slice(0, 1)),
    reversed_("s0_passage_sentences"),
    reversed_("s0_sentence_term_offsets"),
    reversed_("s0_passage_source"),
    removed("s0_bm25_counts"),
    removed("s0_words_buffer"),
    added,
    shifted_paragraphs,
    spans_beyond_the_text,
    overlapping_spans,
    inside_a_character,
    passage_without_sentences,
    pickled_listing,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda damage: damage.__name__)
def test_arrays_that_do_not_fit_together_are_rebuilt_before_a_question_meets_them(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Callable[[dict[str, np.ndarray]], None]
) -> None:
    open_story(corpus, tmp_path / "cache")
    path = stored_path(tmp_path / "cache", corpus)
    arrays = stored_arrays(path)
    damage(arrays)
    write_arrays(path, arrays)
    with pytest.raises((UnusableIndex, StaleIndex)):
        load(path, Fingerprint(corpus))
    with caplog.at_level(logging.WARNING):
        story = open_story(corpus, tmp_path / "cache")
    assert len([r for r in caplog.records if "rebuilding" in r.getMessage() or "out of date" in r.getMessage()]) == 1
    exercise(story)
    caplog.clear()
    open_story(corpus, tmp_path / "cache")
    assert caplog.records == []  # replaced by a good one


INTEGER_ARRAYS = [
    "s0_passage_source",
    "s0_passage_paragraph",
    "s0_passage_sentences",
    "s0_sentence_spans",
    "s0_sentence_term_offsets",
    "s0_sentence_terms",
    "s0_bm25_offsets",
    "s0_bm25_passages",
    "s0_texts_offsets",
    "terms_offsets",
    "s0_words_offsets",
    "s0_doc_ids_offsets",
    "s0_titles_offsets",
    "s0_texts_buffer",
]


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, np.ndarray]]:
    folder = tmp_path_factory.mktemp("genuine")
    story_folder = write_corpus(folder / "corpus")
    open_story(story_folder, folder / "cache")
    return story_folder, folder / "cache", stored_arrays(stored_path(folder / "cache", story_folder))


@pytest.mark.parametrize("in_file", [False, True], ids=["read", "left in its file"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(INTEGER_ARRAYS), at=st.integers(0, 10_000), value=st.integers(-3, 400))
def test_any_one_value_changed_is_refused_or_harmless(
    genuine: tuple[Path, Path, dict[str, np.ndarray]], in_file: bool, name: str, at: int, value: int
) -> None:
    """Either a warning and a rebuild, or an index that still works, never a crash. A value can change into another
    that fits (a sentence ending a character early): no check can tell, and the quote is then another. An archive's
    index, its texts and postings left in its file, is checked only as far as its passages: the rest is guarded where
    used, so that damage there too makes a wrong quote (the price of a quick start), not a crash."""
    corpus, cache, arrays = genuine
    arrays = dict(arrays)
    target = arrays[name].copy()
    target.reshape(-1)[at % target.size] = value % 256 if target.dtype == np.uint8 else value
    arrays[name] = target
    write_arrays(stored_path(cache, corpus), arrays)
    with mock.patch.object(retrieval.store, "_ON_DISK_FROM", 0 if in_file else retrieval.store._ON_DISK_FROM):
        exercise(open_story(corpus, cache), intact=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=4), cut=st.booleans()
)
def test_any_bytes_damaged_make_a_stale_or_unusable_index_never_a_crash(
    genuine: tuple[Path, Path, dict[str, np.ndarray]], flips: list[tuple[int, int]], cut: bool
) -> None:
    corpus, cache, arrays = genuine
    path = stored_path(cache, corpus)
    write_arrays(path, arrays)
    data = bytearray(path.read_bytes())
    for at, value in flips:
        data[at % len(data)] = value
    path.write_bytes(bytes(data[: flips[0][0] % len(data)] if cut else data))
    try:
        index = load(path, Fingerprint(corpus))
    except (StaleIndex, UnusableIndex) as error:
        assert str(error).isprintable()
        return
    exercise(Story(index, (), corpus))


# -- a corpus edited while it is indexed ------------------------------------------------------------------------------


def rewrite(corpus: Path) -> None:
    (corpus / "ferries.txt").write_text("Ferries\n\nThe ferry Maribel sank off Vellmar in a winter gale.\n")


def add_file(corpus: Path) -> None:
    (corpus / "later.txt").write_text("Later\n\nThe ferry Maribel sank off Vellmar in a winter gale.\n")


def remove_file(corpus: Path) -> None:
    (corpus / "port.md").unlink()


@pytest.mark.parametrize("edit", [rewrite, add_file, remove_file])
def test_a_corpus_edited_while_it_is_indexed_is_served_but_not_kept(
    corpus: Path, tmp_path: Path, monkeypatch, caplog: pytest.LogCaptureFixture, edit: Callable[[Path], None]
) -> None:
    real_load = bot.story.load_corpus

    def read_then_edit(source: Path) -> object:
        read = real_load(source)
        edit(corpus)
        return read

    monkeypatch.setattr(bot.story, "load_corpus", read_then_edit)
    with caplog.at_level(logging.INFO):
        served = open_story(corpus, tmp_path / "cache")
    assert any("changed while" in r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "crossed" in answer(served.index, QUESTION).quotes[0].text  # what was read is served
    monkeypatch.undo()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = open_story(corpus, tmp_path / "cache")
    documents = {source.doc_id for source in again.index.sources}
    assert documents == {path.name for path in corpus.iterdir()}
    if edit is rewrite:
        assert "sank" in answer(again.index, "Where did the ferry Maribel sink?").quotes[0].text


def test_an_index_is_kept_when_the_corpus_only_was_touched_while_indexed(
    corpus: Path, tmp_path: Path, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_load = bot.story.load_corpus

    def read_then_touch(source: Path) -> object:
        read = real_load(source)
        os.utime(corpus / "ferries.txt", ns=(1, 1))
        return read

    monkeypatch.setattr(bot.story, "load_corpus", read_then_touch)
    open_story(corpus, tmp_path / "cache")
    monkeypatch.undo()

    def refuse(*args: object, **kwargs: object) -> Index:
        raise AssertionError("the index was rebuilt")

    monkeypatch.setattr(Index, "build", refuse)
    with caplog.at_level(logging.WARNING):
        open_story(corpus, tmp_path / "cache")
    assert caplog.records == []
