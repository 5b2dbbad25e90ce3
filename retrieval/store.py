"""The index kept on disk between runs, so that an archive is indexed once and not at every start.

One .npz file per corpus, holding the index's arrays and the fingerprint of what it was built from.
It is written to a temporary file and renamed into place, so a reader never sees half of one.
"""

import hashlib
import os
import tempfile
import zipfile
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


def fingerprint(corpus: Path) -> str:
    """What an index of the corpus depends on: each file's path and bytes, and the analyzer's code and libraries."""
    digest = hashlib.blake2b(digest_size=20)
    here = Path(__file__).parent
    for module in _ANALYZER_MODULES:
        digest.update((here / module).read_bytes())
    digest.update(" ".join(version(library) for library in _ANALYZER_LIBRARIES).encode())
    root, files = corpus_files(corpus)
    for file in files:
        content = file.read_bytes()
        digest.update(f"\0{file.relative_to(root).as_posix()}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def stored_path(cache_dir: Path, corpus: Path) -> Path:
    """Where the index of a corpus is kept: one file per corpus location."""
    name = hashlib.blake2b(str(Path(corpus).resolve()).encode(), digest_size=8).hexdigest()
    return cache_dir / f"index-{name}.npz"


def load(path: Path, key: str) -> Index:
    """The index stored at path; raises StaleIndex or UnusableIndex."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            if "key" not in stored.files or str(stored["key"]) != key:
                raise StaleIndex(f"{path} was built from another corpus or another StoryBot")
            return Index({name: stored[name] for name in stored.files if name != "key"})
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise UnusableIndex(f"{path} cannot be read ({type(error).__name__}: {error})") from None


def save(index: Index, path: Path, key: str) -> None:
    """Store the index atomically; raises OSError when the cache folder cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, key=np.array(key), **index.arrays())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
