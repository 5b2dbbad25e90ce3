"""Which story the bot serves: the configured corpus, else the one that ships with StoryBot."""

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.listing import Listing, take_listing
from retrieval import (
    Fingerprint,
    Index,
    StaleIndex,
    UnusableIndex,
    embedder,
    load,
    load_corpus,
    other_names,
    quoted,
    save,
    stored_path,
)

BUNDLED_STORY = Path(__file__).parent / "story"
# Questions the bundled story really answers, offered to people who do not know what to ask.
BUNDLED_EXAMPLES = (
    "Why might Russia need North Korean artillery?",
    "Why is Kim's train so slow?",
    "Who is Sergei Shoigu?",
)

log = logging.getLogger("storybot")


@dataclass(eq=False)
class Story:
    """The story served. `index` is replaced whole, in one assignment, when the corpus changes (bot/live.py): read it
    anew at each use, never keep it, so that every question meets one index, the newest."""

    index: Index
    examples: tuple[str, ...]
    source: Path
    # The corpus's files as they were just before the index was read: where a live corpus starts from.
    listing: Listing | None = None
    kept_at: Path | None = None  # where its index is kept between runs, if it is


def open_story(corpus: Path | None, cache_dir: Path | None = None, live: bool = False) -> Story:
    """The story's index, from cache_dir when it holds a current one; each skipped file is logged as a warning.
    `live`: the story is to follow its corpus (bot/live.py), so the listing it was read from is taken too.

    Raises CorpusError when no document is usable, ModelError when the meaning model cannot be loaded.
    """
    source = corpus or BUNDLED_STORY
    embedder()  # a model that cannot load stops the bot here, in one line, not in mid-conversation
    other_names()  # read here rather than on the first question
    # Taken before the corpus is read: a file changed while it is indexed then counts as changed, and is read again.
    listing = take_listing(source)[1] if live else None
    index = _indexed(source, cache_dir)[0] if cache_dir else _build(source)
    for warning in index.warnings:
        log.warning(warning)
    kept_at = stored_path(cache_dir, source) if cache_dir else None
    return Story(index, BUNDLED_EXAMPLES if corpus is None else (), source, listing, kept_at)


# What became of the kept index when a story was opened.
Kept = Literal["current", "kept", "not kept"]


def _indexed(source: Path, cache_dir: Path) -> tuple[Index, Kept]:
    fingerprint = Fingerprint(source)
    stored = stored_path(cache_dir, source)
    if os.path.lexists(stored):  # whatever is there, a FIFO or a broken link too, is checked and warned about
        try:
            return load(stored, fingerprint), "current"
        except StaleIndex:
            log.info("the stored index of %s is out of date: rebuilding it", quoted(str(source)))
        except UnusableIndex as error:
            log.warning("%s: rebuilding the index", error)
    fingerprint.take()  # before the corpus is read, so that an edit while indexing shows
    index = _build(source)
    if not fingerprint.unchanged():  # what was read may be half old, half new: kept, it would pass for the new corpus
        log.warning("%s changed while it was indexed: serving that index, not keeping it", quoted(str(source)))
        return index, "not kept"
    return index, "kept" if _keep(index, stored, fingerprint) else "not kept"


def kept_index(corpus: Path | None, cache_dir: Path) -> tuple[Index, Path, Kept]:
    """The corpus's index, built and kept in cache_dir unless the one kept there is current (storybot index): the
    index, where it is kept, and what became of it."""
    source = corpus or BUNDLED_STORY
    index, kept = _indexed(source, cache_dir)
    for warning in index.warnings:
        log.warning(warning)
    return index, stored_path(cache_dir, source), kept


def _keep(index: Index, stored: Path, fingerprint: Fingerprint) -> bool:
    try:
        save(index, stored, fingerprint)
    except OSError as error:
        shown = quoted(str(stored.parent))
        log.warning("cannot keep the index in %s (%s): it will be built again next time", shown, error.strerror)
        return False
    return True


def _build(source: Path) -> Index:
    corpus = load_corpus(source)
    if not sys.stderr.isatty():
        return Index.build(corpus)
    from tqdm import tqdm

    with tqdm(total=len(corpus.documents), desc="indexing", unit=" documents", leave=False) as bar:

        def advance(done: int, total: int) -> None:
            bar.update(done - bar.n)

        return Index.build(corpus, advance)
