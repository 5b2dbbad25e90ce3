"""Reading a corpus: files of text, Markdown or HTML become documents of numbered paragraphs."""

import heapq
import itertools
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from retrieval.errors import CorpusError

if TYPE_CHECKING:
    from markdown_it.token import Token

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    paragraphs: tuple[str, ...]
    # Paragraphs (numbered from 1) that are list items written without their markers, as Markdown's are:
    # quotable, though they may not end a sentence.
    list_items: frozenset[int] = frozenset()

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    warnings: tuple[str, ...] = ()


# A file as read: its title, its paragraphs and, where the format marks them, which paragraphs are list items.
_Read = tuple[str, list[str]] | tuple[str, list[str], frozenset[int]]


class _Unusable(Exception):
    """A file that cannot become a document; the message says why."""


class NotRegularFile(OSError):
    """A FIFO, device, socket or folder where a file is expected: reading one may block, or never end."""


_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def printable(text: str) -> str:
    """text with what is not printable escaped as repr() escapes it, so that a name stays on one line and encodes as
    UTF-8: control characters and line separators become \\n, \\x1b, \\u2028; a byte that is not UTF-8 (a surrogate
    escape in Python's file names) becomes \\xff."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def quoted(name: str) -> str:
    """A name as a message shows it: as it is when printable, else as repr() has it, quoted and escaped, so that no
    name can forge a log line."""
    return name if name.isprintable() else repr(name)


def _escaped(char: str) -> str:
    if "\udc80" <= char <= "\udcff":  # os.fsdecode's stand-in for an undecodable byte
        return f"\\x{ord(char) - 0xDC00:02x}"
    return repr(char)[1:-1]


def open_regular(path: Path | str) -> BinaryIO:
    """The regular file at path (links followed), open for reading; raises NotRegularFile without opening anything
    else, OSError when it cannot be opened. O_NONBLOCK: should a FIFO take the file's place after the check, the open
    still returns at once, and the second check refuses it."""
    _check_regular(os.stat(path))
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        _check_regular(os.fstat(descriptor))
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "rb")


def _check_regular(status: os.stat_result) -> None:
    if not stat.S_ISREG(status.st_mode):
        kind = _KINDS.get(stat.S_IFMT(status.st_mode), "of an unknown kind")
        raise NotRegularFile(f"it is not a regular file ({kind})")


def _read_txt(text: str) -> tuple[str, list[str]]:
    title, _, body = text.strip().partition("\n")
    return title.strip(), _blank_line_paragraphs(body)


def _read_markdown(text: str) -> _Read:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks: list[tuple[str, str]] = []  # (tag of the enclosing block, its plain text)
    depth = 0  # in list items
    for opening, inline in itertools.pairwise(tokens):
        depth += {"list_item_open": 1, "list_item_close": -1}.get(opening.type, 0)
        if inline.type == "inline":
            blocks.append(("li" if depth else opening.tag, _plain_inline(inline.children or [])))
        elif inline.type in ("fence", "code_block"):
            blocks.append(("pre", inline.content))
    blocks = [(tag, text.strip()) for tag, text in blocks if text.strip()]
    headings = [i for i, (tag, _) in enumerate(blocks) if tag == "h1"]
    if headings:
        title = blocks.pop(headings[0])[1]
    elif blocks:
        title, _, rest = blocks[0][1].partition("\n")
        blocks[:1] = [("p", paragraph) for paragraph in _blank_line_paragraphs(rest)]
    else:
        return "", []
    items = frozenset(number for number, (tag, _) in enumerate(blocks, 1) if tag == "li")
    return title.strip(), [text for _, text in blocks], items


def _plain_inline(children: list["Token"]) -> str:
    """Inline Markdown as the reader sees it: text and code kept, markup and raw HTML dropped."""
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    return "".join(parts)


def _read_html(text: str) -> tuple[str, list[str]]:
    import lxml.html
    import trafilatura

    tree = lxml.html.document_fromstring(text)
    heading = tree.find(".//title")
    if heading is None or not heading.text_content().strip():  # type: ignore[attr-defined]
        heading = tree.find(".//h1")
    title = " ".join(heading.text_content().split()) if heading is not None else ""  # type: ignore[attr-defined]
    main = trafilatura.extract(text, output_format="txt", include_comments=False) or ""
    paragraphs = [line.strip() for line in main.splitlines() if line.strip()]
    if not title and paragraphs:
        title = paragraphs.pop(0)
    return title, paragraphs


def _blank_line_paragraphs(body: str) -> list[str]:
    return [p.strip() for p in _BLANK_LINE.split(body) if p.strip()]


READERS: dict[str, Callable[[str], _Read]] = {
    ".txt": _read_txt,
    ".md": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
}


def _decode(raw: bytes) -> str:
    if not raw.strip():
        raise _Unusable("it is empty")
    if b"\x00" in raw:
        raise _Unusable("it is binary, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        text = _detected(raw, f"it is not valid UTF-8 (byte {error.start})")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# charset-normalizer's measures of a decoding: how much of it is gibberish, and how much reads as a language.
MAX_CHAOS = 0.1
MIN_COHERENCE = 0.5


def _detected(raw: bytes, why_not_utf8: str) -> str:
    """raw decoded by the encoding charset-normalizer finds, when it is sure: a short text fits many."""
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None or best.chaos > MAX_CHAOS or best.coherence < MIN_COHERENCE:
        raise _Unusable(f"{why_not_utf8}, and its encoding cannot be told with confidence")
    return str(best)


def read_document(path: Path, doc_id: str) -> Document:
    """One file as a document; raises _Unusable with the reason it cannot be one."""
    reader = READERS[path.suffix.lower()]
    try:
        title, paragraphs, *list_items = reader(_decode(_read(path)))
    except (_Unusable, ImportError):  # a missing library is the installation's fault, not the file's
        raise
    except Exception as error:  # a parser choking on a malformed file must not stop the rest
        raise _Unusable(f"it could not be parsed ({type(error).__name__})") from None
    if not paragraphs:
        raise _Unusable("it has no text besides its title")
    return Document(doc_id, title, tuple(paragraphs), *list_items)


def _read(path: Path) -> bytes:
    """The file's bytes; raises _Unusable saying why there are none to be had."""
    try:
        with open_regular(path) as file:
            return file.read()
    except NotRegularFile as error:
        raise _Unusable(str(error)) from None
    except OSError as error:
        if os.path.islink(path) and not os.path.exists(path):  # to nothing, or to a loop of links
            raise _Unusable("it is a broken link") from None
        raise _Unusable(_cannot_read(error)) from None


@dataclass(frozen=True)
class CorpusFiles:
    """What a corpus path holds: the folder doc_ids are relative to, the files in sorted path order, and a warning
    for each folder that was not read."""

    root: Path
    paths: tuple[str, ...]  # as text: an archive has tens of thousands, and pathlib takes longer to make than to stat
    warnings: tuple[str, ...] = ()

    @cached_property
    def files(self) -> tuple[Path, ...]:
        return tuple(map(Path, self.paths))

    def doc_id(self, file: Path) -> str:
        """Stable, as it is the path in the corpus, and printable, as a name may hold anything but "/" and NUL."""
        return printable(self.name(file))

    def name(self, file: Path) -> str:
        return file.relative_to(self.root).as_posix()


def corpus_files(path: Path) -> CorpusFiles:
    """The corpus's files, hidden ones (.git, .DS_Store) left out; raises CorpusError when there is no corpus."""
    path = Path(path)
    if os.path.isdir(path):
        return _Walk(path).run()
    if os.path.lexists(path):  # a file, or something that is not one: reading it tells which
        return CorpusFiles(path.parent, (str(path),))
    raise CorpusError(f"corpus not found: {quoted(str(path))}")


def _path_order(path: str) -> str:
    """Paths in order folder by folder ("a/b" before "a-c"): the separator as the least of characters, which no name
    holds, compares as a list of the names would, for a tenth of the cost."""
    return path.replace(os.sep, "\0")


def _cannot_read(error: OSError) -> str:
    return f"it cannot be read ({error.strerror or type(error).__name__})"


class _Walk:
    """A folder's files, found with a stack rather than recursion, so that no depth is too deep.

    Each folder is read once, known by its device and inode. Linked folders are followed after all the corpus's own
    folders are read, nearest first in path order: a link into the corpus (a loop to an ancestor, a second way to one
    of its folders) then finds its target read already and is skipped with a warning, as is a second link to a folder
    outside.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[str] = []
        self.skipped: list[tuple[str, str]] = []  # (path, why)
        self.read: set[tuple[int, int]] = set()
        self.folders: list[str] = []  # a stack, to be read now
        self.links: list[tuple[str, str]] = []  # a heap, to be followed when no folder is left

    def run(self) -> CorpusFiles:
        try:
            status = os.stat(self.root)
            self.read.add((status.st_dev, status.st_ino))
            self._list(str(self.root), must=True)
        except OSError as error:
            raise CorpusError(f"corpus cannot be read: {printable(str(error))}") from None
        while self.folders or self.links:
            if self.folders:
                self._list(self.folders.pop())
            else:
                self._visit(heapq.heappop(self.links)[1])
        files = tuple(sorted(self.files, key=_path_order))
        skipped = sorted(self.skipped, key=lambda item: _path_order(item[0]))
        listing = CorpusFiles(self.root, files)
        warnings = tuple(f"skipped {quoted(listing.name(Path(path)))}: {why}" for path, why in skipped)
        return CorpusFiles(self.root, files, warnings)

    def _visit(self, folder: str) -> None:
        """Put a folder on the stack, unless it was read already (through a link, or a bind mount)."""
        try:
            status = os.stat(folder)
        except OSError as error:
            self.skipped.append((folder, _cannot_read(error)))
            return
        identity = (status.st_dev, status.st_ino)
        if identity in self.read:
            self.skipped.append((folder, "it leads to a folder that is read already"))
        else:
            self.read.add(identity)
            self.folders.append(folder)

    def _list(self, folder: str, must: bool = False) -> None:
        """Sort a folder's entries: a folder goes on the stack, a link to one on the heap, anything else is a file,
        for reading to judge (a FIFO, a broken link). Raises OSError when it `must` be read and cannot."""
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if not _is_folder(entry):
                        self.files.append(entry.path)
                    elif entry.is_symlink():
                        heapq.heappush(self.links, (_path_order(entry.path), entry.path))
                    else:
                        self._visit(entry.path)
        except OSError as error:
            if must:
                raise
            self.skipped.append((folder, _cannot_read(error)))


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a link that loops on itself
        return False


class SkippedFile(CorpusError):
    """A file of the corpus that cannot become a document; the message names it and says why."""


def read_file(listing: CorpusFiles, file: Path) -> Document:
    """One file of a corpus as a document; raises SkippedFile, whose message is the warning to give."""
    name = quoted(listing.name(file))
    if file.suffix.lower() not in READERS:
        raise SkippedFile(f"skipped {name}: not a .txt, .md or .html file")
    try:
        return read_document(file, listing.doc_id(file))
    except _Unusable as reason:
        raise SkippedFile(f"skipped {name}: {reason}") from None


def load_corpus(path: Path) -> Corpus:
    """Every usable document under path, with a warning naming each file that was skipped and why."""
    listing = corpus_files(path)
    documents: list[Document] = []
    warnings = list(listing.warnings)
    for file in listing.files:
        try:
            documents.append(read_file(listing, file))
        except SkippedFile as skipped:
            warnings.append(str(skipped))
    if not documents:
        only = f" ({warnings[0]})" if len(warnings) == 1 else ""
        raise CorpusError(f"no usable document in {quoted(str(path))}{only}")
    return Corpus(documents=tuple(documents), warnings=tuple(warnings))
