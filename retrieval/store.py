"""The index kept on disk between runs, so that an archive is indexed once and not at every start.

One .npz file per corpus, holding the index's arrays and the fingerprint of what it was built from.
It is written to a temporary file and renamed into place, so a reader never sees half of one.

What is read back is trusted no further than it is checked: only a regular file is opened (a FIFO would hang the
start), no member is inflated or allocated beyond what an index of the corpus can take (a small archive may inflate
to gigabytes, a header may ask for a terabyte), and the arrays must fit together before a question meets them.
"""

import contextlib
import glob
import hashlib
import math
import os
import re
import stat
import struct
import time
import weakref
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.metadata import version
from pathlib import Path
from tempfile import mkstemp
from typing import IO, Literal, cast

import numpy as np
from numpy.lib import format as npy

from retrieval.corpus import corpus_files, open_regular, printable
from retrieval.errors import CacheError
from retrieval.index import SEGMENT_STRINGS, Index

# The code an index's contents depend on: a change to any of it makes stored indexes stale.
_ANALYZER_MODULES = ("analysis.py", "bm25.py", "corpus.py", "furniture.py", "index.py")
_ANALYZER_LIBRARIES = ("numpy", "PyStemmer", "sentencex", "trafilatura", "markdown-it-py")

# An index takes 4 bytes per byte of a news story, and up to 12 for a corpus of nothing but two-word sentences ("1 2."),
# whose postings and offsets outweigh their text; each file adds its doc_id, title and maybe a warning. A stored index
# that declares more than 32 bytes per byte of the corpus's files and names, 1 kB per file and 1 MB besides is damage
# or a bomb, and is refused before anything is inflated.
_INDEX_BYTES_PER_BYTE = 32
_INDEX_BYTES_PER_FILE = 1 << 10
_INDEX_BYTES_BESIDES = 1 << 20

_FINGERPRINT = ("listing", "content")
# The index's own arrays, then each segment's (retrieval/index.py), named "s0_texts_buffer" and so on, with the mask of
# its current documents if some are gone; each with its dtype and number of dimensions.
_GLOBAL_STRINGS = ("terms", "warnings")
_GLOBAL: dict[str, tuple[type[np.generic], int]] = {
    **{f"{name}_buffer": (np.uint8, 1) for name in _GLOBAL_STRINGS},
    **{f"{name}_offsets": (np.int64, 1) for name in _GLOBAL_STRINGS},
}
_SEGMENT: dict[str, tuple[type[np.generic], int]] = {
    **{f"{name}_buffer": (np.uint8, 1) for name in SEGMENT_STRINGS},
    **{f"{name}_offsets": (np.int64, 1) for name in SEGMENT_STRINGS},
    "word_counts": (np.int64, 1),
    "passage_source": (np.int32, 1),
    "passage_paragraph": (np.int32, 1),
    "passage_sentences": (np.int64, 1),
    "passage_lengths": (np.int32, 1),
    "sentence_spans": (np.int32, 2),
    "sentence_term_offsets": (np.int64, 1),
    "sentence_terms": (np.int32, 1),
    "bm25_offsets": (np.int64, 1),
    "bm25_passages": (np.int32, 1),
    "bm25_counts": (np.int32, 1),
}
_LIVE = "live"
# Members of at least this many bytes, of those a question reads only a little of, stay in the file (see FileArray).
_ON_DISK_FROM = 1 << 20
_ON_DISK = ("texts_buffer", "sentence_terms", "bm25_passages", "bm25_counts")
# A half-written index untouched this long was left by a process killed while writing it.
_LEFTOVER_SECONDS = 600
# A zip member's local header: its signature, 22 bytes that do not matter here, its name's and extra field's lengths.
_LOCAL_HEADER = struct.Struct("<4s22xHH")
_HEADER_READERS = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
# What a damaged or forged archive makes zipfile, zlib or numpy raise.
_DAMAGE = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    EOFError,
    RuntimeError,
    struct.error,
    zlib.error,
    zipfile.BadZipFile,
)


class StaleIndex(CacheError):
    """The stored index was built from another corpus content or another version of the analyzer."""


class UnusableIndex(CacheError):
    """The stored index cannot be read; the message says why."""


@dataclass(frozen=True)
class Fingerprint:
    """What an index of a corpus depends on, told two ways.

    `content` digests every file's path and bytes; `listing` only their paths, kinds, sizes and modification times,
    which is a thousand times quicker to take. An index whose listing matches is current; one whose listing differs
    is current still if its content matches (files touched, not changed). Both include the analyzer's code and
    library versions. A file that cannot be read (a broken link, a FIFO) counts by why it cannot.
    """

    corpus: Path

    @cached_property
    def listing(self) -> str:
        return self._digest(_attempt(_size_and_time, status, file) for _, file, status in self._statuses)

    @cached_property
    def content(self) -> str:
        return self._digest(_attempt(_content, status, file) for _, file, status in self._statuses)

    @cached_property
    def index_limit(self) -> int:
        """The most bytes an index of this corpus can take, with room to spare."""
        files = [(name, status) for name, _, status in self._statuses if isinstance(status, os.stat_result)]
        held = sum(len(name) + (status.st_size if stat.S_ISREG(status.st_mode) else 0) for name, status in files)
        return _INDEX_BYTES_PER_BYTE * held + _INDEX_BYTES_PER_FILE * len(self._statuses) + _INDEX_BYTES_BESIDES

    def take(self) -> tuple[str, str]:
        """Both digests, taken now if not yet, listing first. Taken before the corpus is read for indexing, they can
        only be older than what is indexed: that makes the index stale next time, never wrongly current."""
        return self.listing, self.content

    def unchanged(self) -> bool:
        """Whether the corpus is as it was when these digests were taken, by the rule an index is current by."""
        now = Fingerprint(self.corpus)
        return now.listing == self.listing or now.content == self.content

    @cached_property
    def _statuses(self) -> list[tuple[bytes, str, os.stat_result | OSError]]:
        """Each file's name in the corpus as bytes (a name need not be UTF-8), its path, and its status or why there
        is none."""
        listing = corpus_files(self.corpus)
        root = os.path.join(listing.root, "")
        # Names cut from the path as text: pathlib's relative_to costs more than the stat, at 50,000 files.
        return [(os.fsencode(path.removeprefix(root)), path, _status(path)) for path in listing.paths]

    def _digest(self, taken: Iterable[bytes | OSError]) -> str:
        """One digest of what was taken of each file (in the order of _statuses), or why nothing could be."""
        digest = hashlib.blake2b(_analyzer(), digest_size=20)
        for (name, _, _), data in zip(self._statuses, taken, strict=True):
            if isinstance(data, OSError):
                digest.update(b"\0" + name + f"\0!{type(data).__name__} {data.errno} {data.strerror}\0".encode())
            else:
                digest.update(b"\0" + name + f"\0{len(data)}\0".encode())
                digest.update(data)
        return digest.hexdigest()


def _attempt(
    read: Callable[[os.stat_result, str], bytes | OSError], status: os.stat_result | OSError, file: str
) -> bytes | OSError:
    """What read() gives for a file, or why it gives nothing."""
    if isinstance(status, OSError):
        return status
    try:
        return read(status, file)
    except OSError as error:
        return error


def _status(file: str) -> os.stat_result | OSError:
    try:
        return os.stat(file)
    except OSError as error:
        return error


def _size_and_time(status: os.stat_result, file: str) -> bytes:
    return f"{stat.S_IFMT(status.st_mode)} {status.st_size} {status.st_mtime_ns}".encode()


def _content(status: os.stat_result, file: str) -> bytes:
    with open_regular(file) as opened:
        return opened.read()


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
    name = hashlib.blake2b(os.fsencode(os.path.realpath(corpus)), digest_size=8).hexdigest()
    return cache_dir / f"index-{name}.npz"


def load(path: Path, fingerprint: Fingerprint) -> Index:
    """The index stored at path; raises StaleIndex or UnusableIndex, having read no more than such an index holds."""
    try:
        with open_regular(path) as file:
            index = _read(file, fingerprint)
    except _DAMAGE as error:
        raise UnusableIndex(printable(f"{path} cannot be read ({type(error).__name__}: {error})")) from None
    if index is None:
        raise StaleIndex(printable(f"{path} was built from another corpus or another StoryBot"))
    return index


def _read(file: IO[bytes], fingerprint: Fingerprint) -> Index | None:
    """The index in an open archive, None when stale; raises ValueError (or what else _DAMAGE holds) when damaged."""
    limit = fingerprint.index_limit
    size = os.fstat(file.fileno()).st_size
    if size > limit:
        raise ValueError(f"it takes {size} bytes, more than an index of this corpus can ({limit})")
    with zipfile.ZipFile(file) as archive:
        members = _members(archive, limit)
        if not _current(archive, members, fingerprint):
            return None
        segments = sum(1 for name in members if re.fullmatch(r"s\d+_passage_source", name))
        expected = {*_FINGERPRINT, *_GLOBAL, *(f"s{n}_{name}" for n in range(segments) for name in _SEGMENT)}
        allowed = expected | {f"s{n}_{_LIVE}" for n in range(segments)}
        _require(segments > 0 and expected <= members.keys() <= allowed, "it does not hold the arrays of an index")
        arrays = {name: _array(archive, info, file) for name, info in members.items() if name not in _FINGERPRINT}
    _check(arrays, segments, whole=not any(isinstance(array, FileArray) for array in arrays.values()))
    return Index.from_arrays(arrays, segments)


def _members(archive: zipfile.ZipFile, limit: int) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by array name, refused unread when they declare more than an index of the corpus takes:
    zipfile inflates a member no further than the size it declares."""
    infos = archive.infolist()
    declared = sum(info.file_size for info in infos)
    _require(declared <= limit, f"its members declare {declared} bytes, more than an index of this corpus takes")
    names = [info.filename.removesuffix(".npy") for info in infos]
    _require(len(set(names)) == len(names), "it holds a member twice")
    return dict(zip(names, infos, strict=True))


def _current(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], fingerprint: Fingerprint) -> bool:
    if not members.keys() >= set(_FINGERPRINT):
        return False
    listing, content = (_array(archive, members[name]) for name in _FINGERPRINT)
    return _text(listing) == fingerprint.listing or _text(content) == fingerprint.content


def _text(array: np.ndarray) -> str:
    _require(array.dtype.kind == "U" and array.shape == (), "its fingerprint is not a string")
    return str(array)


def _array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file: IO[bytes] | None = None) -> np.ndarray:
    """One member, its header checked against its size before anything is allocated. A large one stored uncompressed
    (as save() stores them) is read straight from the file, past zipfile's CRC (a large index is checked as far as its
    passages: see _check); of those, the ones questions read only a little of stay in the file."""
    with archive.open(info) as member:
        header = _HEADER_READERS.get(npy.read_magic(member))
        if header is None:
            raise ValueError(f"{info.filename} is in an unknown format")
        shape, fortran, dtype = header(member)
        declared = math.prod(shape) * dtype.itemsize
        _require(not dtype.hasobject, f"{info.filename} holds Python objects")
        _require(declared == info.file_size - member.tell(), f"{info.filename} does not hold what its header says")
        order: Literal["F", "C"] = "F" if fortran else "C"
        if file is None or declared < _ON_DISK_FROM or info.compress_type != zipfile.ZIP_STORED:
            data = bytearray(member.read())  # to its end, where zipfile checks the CRC
            _require(len(data) == declared, f"{info.filename} is cut")
            read: np.ndarray = np.frombuffer(data, dtype=dtype).reshape(shape, order=order)
            return read
        start = _data_start(file, info) + member.tell()
    _require(start + declared <= os.fstat(file.fileno()).st_size, f"{info.filename} is cut")
    if info.filename.removesuffix(".npy").split("_", 1)[-1] in _ON_DISK and len(shape) == 1:
        return cast(np.ndarray, FileArray(file, start, dtype, shape[0]))  # reads as a 1-D array does: see FileArray
    whole: np.ndarray = np.frombuffer(os.pread(file.fileno(), declared, start), dtype=dtype).reshape(shape, order=order)
    return whole


class FileArray:
    """A 1-D array left in its file and read a slice at a time, with pread: an archive's texts and postings then cost
    only the memory of what questions read, and nothing is mapped (a mapped file's page cache counts as the bot's
    memory, in folios of up to 2 MB a byte touched). Takes the slicing and integer-array indexing index.py does."""

    def __init__(self, file: IO[bytes], offset: int, dtype: np.dtype, length: int) -> None:
        self._descriptor = os.dup(file.fileno())
        weakref.finalize(self, os.close, self._descriptor)
        self._offset, self.dtype, self._length = offset, dtype, length
        self.ndim, self.shape, self.size = 1, (length,), length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(self._length)
            _require(step == 1, "a file array is read in runs")
            return self._read(start, stop)
        # Positions out of range come only from damage where a large index is not checked (see _check): clipped.
        positions = np.clip(np.asarray(key, dtype=np.int64), 0, max(self._length - 1, 0))
        if not positions.size:
            return np.zeros(0, self.dtype)
        low = int(positions.min())
        return self._read(low, int(positions.max()) + 1)[positions - low]

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        whole = self._read(0, self._length)
        return whole if dtype is None else whole.astype(dtype)

    def _read(self, start: int, stop: int) -> np.ndarray:
        size = self.dtype.itemsize
        data = os.pread(self._descriptor, max(stop - start, 0) * size, self._offset + start * size)
        return np.frombuffer(data, self.dtype, count=len(data) // size)


def _data_start(file: IO[bytes], info: zipfile.ZipInfo) -> int:
    """Where a member's bytes begin: after its local header, whose name and extra field have lengths of their own."""
    local = os.pread(file.fileno(), _LOCAL_HEADER.size, info.header_offset)
    _require(len(local) == _LOCAL_HEADER.size, "a member's header is lost")
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(local)
    _require(signature == b"PK\x03\x04", "a member's header is lost")
    return int(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)


def _require(condition: bool | np.bool_, what: str) -> None:
    if not condition:
        raise ValueError(what)


def _fit(condition: bool | np.bool_, what: str) -> None:
    _require(condition, f"the index arrays do not fit together: {what}")


def _check(arrays: dict[str, np.ndarray], segments: int, whole: bool = True) -> None:
    """Raises ValueError unless the arrays are those of an index: of the right types, and every offset, id and span
    within what it points into, so that no question meets an IndexError or a quote outside its paragraph.

    An archive's index, its texts and postings left in the file, is checked only as far as its documents and passages
    (whole=False):
    reading all its text and postings would cost seconds and their memory at every start. What is left unchecked
    is guarded where it is used (index.py, bm25.py): damage there makes a wrong quote, not a crash."""
    for name, (dtype, dimensions) in _GLOBAL.items():
        _fit(arrays[name].dtype == dtype and arrays[name].ndim == dimensions, f"{name} is not of its type")
    for name in _GLOBAL_STRINGS:
        _check_strings(arrays, name)
    terms = len(arrays["terms_offsets"]) - 1
    current = 0
    for number in range(segments):
        segment = {name: arrays[f"s{number}_{name}"] for name in _SEGMENT}
        _check_segment(segment, terms, whole)
        live = arrays.get(f"s{number}_{_LIVE}")
        documents = len(segment["doc_ids_offsets"]) - 1
        if live is None:
            current += len(segment["passage_source"])
        else:
            _fit(live.dtype == np.bool_ and live.shape == (documents,), f"s{number}_live does not fit its documents")
            current += int(np.count_nonzero(live[segment["passage_source"]]))
    _fit(current > 0, "there is no passage")


def _check_segment(arrays: dict[str, np.ndarray], terms: int, whole: bool) -> None:
    for name, (dtype, dimensions) in _SEGMENT.items():
        _fit(arrays[name].dtype == dtype and arrays[name].ndim == dimensions, f"{name} is not of its type")
    for name in SEGMENT_STRINGS if whole else ("doc_ids", "titles", "words"):
        _check_strings(arrays, name)
    sources = len(arrays["doc_ids_offsets"]) - 1
    _fit(len(arrays["titles_offsets"]) - 1 == sources, "there are not as many titles as documents")
    _fit(bool(np.all(np.diff(arrays["words_offsets"]) > 0)), "a word is empty")
    _fit(len(arrays["word_counts"]) == len(arrays["words_offsets"]) - 1, "words do not match their counts")
    _check_passages(arrays, sources)
    if whole:
        _check_sentences(arrays, terms)
        _check_postings(arrays, terms)
    else:
        _fit(_offsets_fit(arrays["texts_offsets"], len(arrays["texts_offsets"]), len(arrays["texts_buffer"])), "texts")
        spans, offsets = arrays["sentence_spans"], arrays["sentence_term_offsets"]
        _fit(spans.shape[1] == 2 and len(offsets) == len(spans) + 1, "sentence_spans do not match")
        _fit(offsets[0] == 0 and offsets[-1] == len(arrays["sentence_terms"]), "sentence_term_offsets do not match")
        postings = arrays["bm25_offsets"]
        _fit(len(postings) <= terms + 1 and postings[0] == 0, "bm25_offsets do not match the postings")
        _fit(postings[-1] == len(arrays["bm25_passages"]) == len(arrays["bm25_counts"]), "the postings do not match")


def _check_strings(arrays: dict[str, np.ndarray], name: str) -> None:
    """Each string is UTF-8: the buffer is, and no offset falls inside a character."""
    buffer, offsets = arrays[f"{name}_buffer"], arrays[f"{name}_offsets"]
    _fit(_offsets_fit(offsets, len(offsets), len(buffer)), f"{name}_offsets do not fit {name}_buffer")
    str(buffer.data, "utf-8")  # raises UnicodeDecodeError, a ValueError
    inside = offsets[offsets < len(buffer)]
    _fit(bool(np.all(buffer[inside] & 0xC0 != 0x80)), f"{name}_offsets cut a character")


def _check_passages(arrays: dict[str, np.ndarray], sources: int) -> None:
    source, paragraph = arrays["passage_source"], arrays["passage_paragraph"]
    passages = len(source)
    _fit(len(paragraph) == passages == len(arrays["texts_offsets"]) - 1, "passages do not match their texts")
    lengths = arrays["passage_lengths"]
    _fit(len(lengths) == passages and bool(np.all(lengths > 0)), "passage_lengths do not match the passages")
    _fit(_within(source, sources) and bool(np.all(np.diff(source) >= 0)), "passage_source is out of order")
    same_source = np.diff(source) == 0
    increasing = np.all(np.diff(paragraph)[same_source] > 0)
    _fit((passages == 0 or paragraph.min() >= 1) and bool(increasing), "paragraph numbers are out of order")
    sentences = arrays["passage_sentences"]
    _fit(len(sentences) == passages + 1 and sentences[0] == 0, "passage_sentences do not match the passages")
    _fit(sentences[-1] == len(arrays["sentence_spans"]), "passage_sentences do not match the sentences")
    _fit(bool(np.all(np.diff(sentences) > 0)), "a passage has no sentence")


def _check_sentences(arrays: dict[str, np.ndarray], terms: int) -> None:
    """Each sentence's span lies in its passage's text, after the sentence before; its term ids are terms."""
    spans, sentences = arrays["sentence_spans"], arrays["passage_sentences"]
    _fit(spans.shape[1] == 2, "sentence_spans are not pairs")
    owner = np.repeat(np.arange(len(sentences) - 1), np.diff(sentences))
    start, end = spans[:, 0], spans[:, 1]
    lengths = _characters(arrays["texts_buffer"], arrays["texts_offsets"])
    _fit(bool(np.all((start >= 0) & (start < end) & (end <= lengths[owner]))), "a sentence is outside its text")
    same_passage = owner[1:] == owner[:-1]
    _fit(bool(np.all(start[1:][same_passage] >= end[:-1][same_passage])), "sentences overlap")
    offsets, ids = arrays["sentence_term_offsets"], arrays["sentence_terms"]
    _fit(_offsets_fit(offsets, len(spans) + 1, len(ids)), "sentence_term_offsets do not match")
    _fit(_within(ids, terms), "a sentence has a term that is not one")


def _check_postings(arrays: dict[str, np.ndarray], terms: int) -> None:
    offsets, passages, counts = arrays["bm25_offsets"], arrays["bm25_passages"], arrays["bm25_counts"]
    _fit(
        len(offsets) <= terms + 1
        and _offsets_fit(offsets, len(offsets), len(passages))
        and len(counts) == len(passages),
        "bm25_offsets do not match the postings",
    )
    _fit(_within(passages, len(arrays["passage_source"])), "a posting names no passage")
    term_starts = np.zeros(len(passages), dtype=bool)
    term_starts[offsets[:-1][offsets[:-1] < len(passages)]] = True
    ascending = (np.diff(passages.astype(np.int64)) > 0) | term_starts[1:]
    # Else a term could be held by more passages than there are, and its idf would be no number.
    _fit(bool(np.all(ascending)), "a term's postings are out of order")
    _fit(len(counts) == 0 or int(counts.min()) > 0, "a posting counts a term that is not there")


def _characters(buffer: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """How many characters each string of a UTF-8 buffer holds: its bytes but those that continue a character.
    Summed string by string (reduceat, which cannot sum an empty one), so as to take no more memory than the buffer."""
    starts = buffer & 0xC0 != 0x80
    characters = np.zeros(len(offsets) - 1, dtype=np.int64)
    filled = np.flatnonzero(np.diff(offsets) > 0)
    if len(filled):
        characters[filled] = np.add.reduceat(starts, offsets[filled], dtype=np.int64)
    return characters


def _offsets_fit(offsets: np.ndarray, count: int, total: int) -> bool:
    """Whether count offsets run from 0 up to total, never down."""
    return (
        len(offsets) == count > 0 and offsets[0] == 0 and offsets[-1] == total and bool(np.all(np.diff(offsets) >= 0))
    )


def _within(ids: np.ndarray, count: int) -> bool:
    return len(ids) == 0 or (int(ids.min()) >= 0 and int(ids.max()) < count)


def save(index: Index, path: Path, fingerprint: Fingerprint, with_content: bool = True) -> None:
    """Store the index atomically: a reader, or a crash, finds the old one or the new one, never a mix. Raises OSError
    when the cache folder cannot be written. Without content, only the corpus's listing says the index is current
    (reading a whole archive to digest it again would cost more than an update)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    handle, temporary = mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            content = fingerprint.content if with_content else "not taken"  # matches no digest
            arrays = {"listing": np.array(fingerprint.listing), "content": np.array(content)}
            np.savez(file, **(arrays | index.arrays()))  # type: ignore[arg-type]  # numpy's stub: savez's kwargs are arrays
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _remove_leftovers(path: Path) -> None:
    """Remove what a process killed while keeping this index left: its half-written file, untouched for a while (one
    being written now is touched as it grows)."""
    for leftover in path.parent.glob(f"{glob.escape(path.name)}*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - leftover.lstat().st_mtime > _LEFTOVER_SECONDS:
                leftover.unlink()
