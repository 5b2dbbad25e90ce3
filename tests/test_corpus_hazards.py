"""Odd corpora: names that are not UTF-8 or hold line breaks, deep folders, FIFOs and devices, broken links and loops.

Issue 12, item 8. Each is read or skipped with one warning on one line; none gives a traceback, a hang or an index
that cannot be kept.
"""

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.story import open_story
from retrieval.answer import answer
from retrieval.corpus import CorpusError, load_corpus
from retrieval.index import Index
from retrieval.store import Fingerprint, stored_path
from tests.test_cache_hazards import finishes
from tests.test_cli import storybot

STORY = "Ferries\n\nThe harbour ferry Maribel crossed the strait at dawn. Forty passengers were aboard.\n"
QUESTION = "When did the ferry Maribel cross the strait?"
PROJECT = Path(__file__).parents[1]


def write(folder: Path, name: str | bytes, content: str = STORY) -> None:
    """A file whose name may be any bytes, as Linux allows."""
    path = os.path.join(os.fsencode(folder), os.fsencode(name))
    with open(path, "w", encoding="utf-8") as file:
        file.write(content)


def one_line(text: str) -> bool:
    return text.isprintable() and text.strip() == text


# -- names that are not UTF-8 ----------------------------------------------------------------------------------------


@pytest.fixture
def undecodable(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, b"\xff.txt")
    write(folder, b"caf\xe9", "")
    write(folder, b"notes\xfe.pdf", "")
    os.mkdir(os.path.join(os.fsencode(folder), b"sub\xc3"))
    write(folder / os.fsdecode(b"sub\xc3"), b"\x80\x81.md", "# Harbour\n\nThe harbour of Vellmar froze in March.\n")
    return folder


def test_a_name_that_is_not_utf8_gets_a_printable_stable_doc_id(undecodable: Path) -> None:
    corpus = load_corpus(undecodable)
    doc_ids = [document.doc_id for document in corpus.documents]
    assert doc_ids == ["sub\\xc3/\\x80\\x81.md", "\\xff.txt"]
    assert doc_ids == [document.doc_id for document in load_corpus(undecodable).documents]  # stable
    assert len(corpus.warnings) == 2
    for text in [*doc_ids, *corpus.warnings]:
        assert one_line(text)
        text.encode("utf-8")  # no lone surrogate left
    assert answer(Index.build(corpus), QUESTION).quotes[0].doc_id == "\\xff.txt"


def test_a_name_that_is_not_utf8_is_fine_in_json_and_in_the_kept_index(undecodable: Path, tmp_path: Path) -> None:
    asked = storybot("ask", "--json", "--corpus", str(undecodable), QUESTION, cwd=tmp_path)
    assert asked.returncode == 0, asked.stderr
    assert "Traceback" not in asked.stderr
    assert json.loads(asked.stdout)["quotes"][0]["doc_id"] == "\\xff.txt"
    listed = storybot("sources", "--json", "--corpus", str(undecodable), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line)["doc_id"] for line in listed.stdout.splitlines()] == [
        "sub\\xc3/\\x80\\x81.md",
        "\\xff.txt",
    ]
    assert stored_path(tmp_path / ".storybot-cache", undecodable).is_file()  # the fingerprint took the names


# -- depth ------------------------------------------------------------------------------------------------------------

DEPTH = 1000


@pytest.fixture
def deep(tmp_path: Path) -> Iterator[Path]:
    """A story under a thousand nested folders; removed by hand, as Python 3.11's rmtree recurses too."""
    folder = tmp_path / "corpus"
    folders = [folder]
    for _ in range(DEPTH):
        folders.append(folders[-1] / "d")
    for path in folders:  # os.makedirs recurses
        path.mkdir()
    write(folders[-1], "deep.txt")
    write(folder, "top.txt")
    yield folder
    os.remove(folders[-1] / "deep.txt")
    os.remove(folder / "top.txt")
    for path in reversed(folders):
        os.rmdir(path)


def test_a_thousand_nested_folders_are_read(deep: Path, tmp_path: Path) -> None:
    corpus = load_corpus(deep)
    assert [document.doc_id for document in corpus.documents] == ["d/" * DEPTH + "deep.txt", "top.txt"]
    assert Fingerprint(deep).content and Fingerprint(deep).listing
    open_story(deep, tmp_path / "cache")
    assert stored_path(tmp_path / "cache", deep).is_file()


def test_folders_are_read_in_sorted_path_order(tmp_path: Path) -> None:
    for name in ("b/z.txt", "a/y/x.txt", "a.txt", "a/b.txt", "a-b.txt", "c/.hidden.txt", ".git/x.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        write(tmp_path, name)
    doc_ids = [document.doc_id for document in load_corpus(tmp_path).documents]
    assert doc_ids == ["a/b.txt", "a/y/x.txt", "a-b.txt", "a.txt", "b/z.txt"]  # folder by folder


# -- what is not a regular file ---------------------------------------------------------------------------------------


@pytest.fixture
def odd(tmp_path: Path) -> Iterator[Path]:
    """A good story among a FIFO, devices, broken links and a link loop, all named as documents."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, "good.txt")
    os.mkfifo(folder / "pipe.txt")
    (folder / "null.md").symlink_to("/dev/null")
    (folder / "zero.html").symlink_to("/dev/zero")
    (folder / "gone.txt").symlink_to(folder / "nowhere.txt")
    (folder / "gone-folder").symlink_to(folder / "nowhere")
    (folder / "loop-a.txt").symlink_to(folder / "loop-b.txt")
    (folder / "loop-b.txt").symlink_to(folder / "loop-a.txt")
    (folder / "folder.txt").mkdir()
    yield folder


def opened_in_child(corpus: Path) -> dict:
    """load_corpus in a process of its own, which a hang or a read of /dev/zero cannot take the tests down with:
    its documents and warnings, and every path it opened."""
    script = (
        "import io, json, os, sys\n"
        "from pathlib import Path\n"
        "opened = []\n"
        "real_open, real_io_open = os.open, io.open\n"
        "def spy(path, *args, **kwargs):\n"
        "    opened.append(os.fsdecode(path))\n"
        "    return real_open(path, *args, **kwargs)\n"
        "def io_spy(path, *args, **kwargs):\n"
        "    if isinstance(path, (str, bytes, os.PathLike)): opened.append(os.fsdecode(path))\n"
        "    return real_io_open(path, *args, **kwargs)\n"
        "os.open, io.open = spy, io_spy\n"
        "from retrieval.corpus import load_corpus\n"
        "corpus = load_corpus(Path(sys.argv[1]))\n"
        "print(json.dumps({'doc_ids': [d.doc_id for d in corpus.documents], 'warnings': corpus.warnings,\n"
        "                  'opened': opened}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(corpus)], capture_output=True, text=True, cwd=PROJECT, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict = json.loads(done.stdout)
    return result


def test_what_is_not_a_regular_file_is_skipped_unopened_with_one_warning_each(odd: Path) -> None:
    result = opened_in_child(odd)
    assert result["doc_ids"] == ["good.txt"]
    reasons = {
        "gone.txt": "broken link",
        "loop-a.txt": "broken link",
        "loop-b.txt": "broken link",
        "null.md": "not a regular file",
        "pipe.txt": "not a regular file",
        "zero.html": "not a regular file",
    }
    warnings = result["warnings"]
    assert not [w for w in warnings if "folder.txt" in w]  # a folder, read as one: it is empty
    for name, reason in reasons.items():
        (warning,) = [w for w in warnings if name in w]
        assert reason in warning and one_line(warning)
    for name in ("pipe.txt", "null.md", "zero.html"):
        assert not [path for path in result["opened"] if path.endswith(name)], f"{name} was opened"


def test_a_dangling_link_is_skipped_with_a_warning_and_the_index_kept(tmp_path: Path, caplog) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, "good.txt")
    (folder / "gone.txt").symlink_to(folder / "nowhere.txt")
    with caplog.at_level(logging.WARNING):
        open_story(folder, tmp_path / "cache")
    assert [r.getMessage() for r in caplog.records] == ["skipped gone.txt: it is a broken link"]
    assert stored_path(tmp_path / "cache", folder).is_file()


def test_a_corpus_with_odd_entries_is_indexed_and_kept(odd: Path, tmp_path: Path, monkeypatch, caplog) -> None:
    assert finishes(lambda: Fingerprint(odd).content, release=odd / "pipe.txt")
    assert finishes(lambda: Fingerprint(odd).listing)
    with caplog.at_level(logging.WARNING):
        story = finishes(lambda: open_story(odd, tmp_path / "cache"), release=odd / "pipe.txt")
    assert answer(story.index, QUESTION).answered
    assert not [r for r in caplog.records if "cannot keep" in r.getMessage() or "rebuild" in r.getMessage()]
    assert stored_path(tmp_path / "cache", odd).is_file()

    def refuse(*args: object, **kwargs: object) -> Index:
        raise AssertionError("the index was rebuilt")

    monkeypatch.setattr(Index, "build", refuse)
    finishes(lambda: open_story(odd, tmp_path / "cache"), release=odd / "pipe.txt")


def test_an_unreadable_file_is_skipped_and_the_index_kept(tmp_path: Path, monkeypatch, caplog) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, "good.txt")
    write(folder, "secret.txt")
    real_open = os.open

    def refuse_secrets(path: str | bytes | os.PathLike[str], *args: object, **kwargs: object) -> int:
        if os.fsdecode(path).endswith("secret.txt"):  # as chmod 0 would, for anyone but root
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse_secrets)
    with caplog.at_level(logging.WARNING):
        story = open_story(folder, tmp_path / "cache")
    assert [r.getMessage() for r in caplog.records] == ["skipped secret.txt: it cannot be read (Permission denied)"]
    assert stored_path(tmp_path / "cache", folder).is_file()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        again = open_story(folder, tmp_path / "cache")
    assert [r.getMessage() for r in caplog.records] == ["skipped secret.txt: it cannot be read (Permission denied)"]
    assert again.index.sources == story.index.sources


def test_a_corpus_that_is_a_fifo_is_a_one_line_error(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "story.txt")
    with pytest.raises(CorpusError) as error:
        finishes(lambda: load_corpus(tmp_path / "story.txt"), release=tmp_path / "story.txt")
    assert "story.txt" in str(error.value) and "not a regular file" in str(error.value) and one_line(str(error.value))


# -- names that would forge a log line --------------------------------------------------------------------------------

FORGING = [
    "evil\nstorybot: ERROR: forged.pdf",
    "cr\rforged.txt",
    "escape\x1b[31m.md",
    "tab\tname.txt",
    "line\u2028separator.txt",
    "bidi\u202eover.txt",
    "nul-like\x7f.html",
]


def test_a_name_cannot_forge_a_log_line(tmp_path: Path, caplog) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write(folder, "good.txt")
    for name in FORGING:
        write(folder, name, "")
    write(folder, "kept\nline.txt")  # a good document with a line break in its name
    corpus = load_corpus(folder)
    assert len(corpus.warnings) == len(FORGING)
    for warning in corpus.warnings:
        assert one_line(warning), warning
    assert "evil\\nstorybot: ERROR: forged.pdf" in " ".join(corpus.warnings)
    assert all(one_line(document.doc_id) for document in corpus.documents)
    with caplog.at_level(logging.WARNING):
        open_story(folder, tmp_path / "cache")
    assert len(caplog.records) == len(FORGING)
    assert all(one_line(record.getMessage()) for record in caplog.records)


@pytest.mark.parametrize("name", ["no\nwhere", "empty\x1b[2J"])
def test_a_corpus_path_cannot_forge_an_error_line(tmp_path: Path, name: str) -> None:
    with pytest.raises(CorpusError) as missing:
        load_corpus(tmp_path / name)
    assert one_line(str(missing.value))
    (tmp_path / name).mkdir()
    with pytest.raises(CorpusError) as empty:
        load_corpus(tmp_path / name)
    assert one_line(str(empty.value))


# -- links to folders -------------------------------------------------------------------------------------------------


@pytest.fixture
def looped(tmp_path: Path) -> Path:
    """Links to folders: into the corpus (loops to an ancestor, itself), and out of it to a folder that links back."""
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    write(folder, "a.txt")
    write(folder / "sub", "b.txt")
    (folder / "sub" / "up").symlink_to("..")
    (folder / "self").symlink_to(".")
    outside = tmp_path / "outside"
    outside.mkdir()
    write(outside, "c.txt")
    (outside / "back").symlink_to(folder)
    (folder / "linked").symlink_to(outside)
    (folder / "other").symlink_to(outside)
    return folder


def test_links_to_folders_are_followed_once_and_loops_end(looped: Path, tmp_path: Path) -> None:
    corpus = finishes(lambda: load_corpus(looped))
    assert [document.doc_id for document in corpus.documents] == ["a.txt", "linked/c.txt", "sub/b.txt"]
    for name in ("linked/back", "other", "self", "sub/up"):
        (warning,) = [w for w in corpus.warnings if w.startswith(f"skipped {name}:")]
        assert "already" in warning and one_line(warning)
    assert len(corpus.warnings) == 4
    assert finishes(lambda: Fingerprint(looped).listing)
    finishes(lambda: open_story(looped, tmp_path / "cache"))
    assert stored_path(tmp_path / "cache", looped).is_file()
