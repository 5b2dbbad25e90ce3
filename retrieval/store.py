"""The index kept on disk between runs, so that an archive is indexed once and not at every start.

One .npz file per corpus, holding the index's arrays and the fingerprint of what it was built from.
It is written to a temporary file and renamed into place, so a reader never sees half of one.
"""

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.metadata import version
from pathlib import Path

import numpy as np

from retrieval.corpus import corpus_files
from retrieval.index import Index

# The code an index's contents depend on: a change to any of it makes stored indexes stale.
_ANALYZER_MODULES = ("analysis.py", "bm25.py", "corpus.py", "furniture.py", "index.py")
_ANALYZER_LIBRARIES = ("numpy", "PyStemmer", "sentencex", "trafilatura", "markdown-it-py")


class StaleIndex(Exception):
    """The stored index was built from another corpus content or another version of the analyzer."""


class UnusableIndex(Exception):
    """The stored index cannot be read; the message says why."""


@dataclass(frozen=True)
class Fingerprint:
    """What an index of a corpus depends on, told two ways.

    `content` digests every file's path and bytes; `listing` only their paths, sizes and modification
    times, which is a thousand times quicker to take. An index whose listing matches is current; one
    whose listing differs is current still if its content matches (files touched, not changed).
    Both include the analyzer's code and library versions.
    """

    corpus: Path

    @cached_property
    def listing(self) -> str:
        return self._digest(_size_and_time)

    @cached_property
    def content(self) -> str:
        return self._digest(Path.read_bytes)

    def _digest(self, read: Callable[[Path], bytes]) -> str:
        root, files = corpus_files(self.corpus)
        digest = hashlib.blake2b(_analyzer(), digest_size=20)
        for file in files:
            data = read(file)
            digest.update(f"\0{file.relative_to(root).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
        return digest.hexdigest()


def _size_and_time(file: Path) -> bytes:
    status = file.stat()
    return f"{status.st_size} {status.st_mtime_ns}".encode()


@cache
def _analyzer() -> bytes:
    digest = hashlib.blake2b(digest_size=20)
    here = Path(__file__).parent
    for module in _ANALYZER_MODULES:
        digest.update((here / module).read_bytes())
    digest.update(" ".join(version(library) for library in _ANALYZER_LIBRARIES).encode())
    return digest.digest()


def stored_path(cache_dir: Path, corpus: Path) -> Path:
    """Where the index of a corpus is kept: one file per corpus location."""
    name = hashlib.blake2b(str(Path(corpus).resolve()).encode(), digest_size=8).hexdigest()
    return cache_dir / f"index-{name}.npz"


def load(path: Path, fingerprint: Fingerprint) -> Index:
    """The index stored at path; raises StaleIndex or UnusableIndex."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            keys = {"listing", "content"}
            current = keys <= set(stored.files) and (
                str(stored["listing"]) == fingerprint.listing or str(stored["content"]) == fingerprint.content
            )
            if not current:
                raise StaleIndex(f"{path} was built from another corpus or another StoryBot")
            return Index({name: stored[name] for name in stored.files if name not in keys})
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise UnusableIndex(f"{path} cannot be read ({type(error).__name__}: {error})") from None


def save(index: Index, path: Path, fingerprint: Fingerprint) -> None:
    """Store the index atomically; raises OSError when the cache folder cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            arrays = {"listing": np.array(fingerprint.listing), "content": np.array(fingerprint.content)}
            np.savez(file, **(arrays | index.arrays()))  # type: ignore[arg-type]  # numpy's stub: savez's kwargs are arrays
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
