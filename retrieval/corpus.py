"""Reading a corpus: files of text, Markdown or HTML become documents of numbered paragraphs."""

import itertools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it.token import Token

_BLANK_LINE = re.compile(r"\n[ \t]*\n")


class CorpusError(Exception):
    """No usable document could be read; the message is meant for the user as it is."""


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    warnings: tuple[str, ...] = ()


class _Unusable(Exception):
    """A file that cannot become a document; the message says why."""


def _read_txt(text: str) -> tuple[str, list[str]]:
    title, _, body = text.strip().partition("\n")
    return title.strip(), _blank_line_paragraphs(body)


def _read_markdown(text: str) -> tuple[str, list[str]]:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    blocks: list[tuple[str, str]] = []  # (tag of the enclosing block, its plain text)
    for opening, inline in itertools.pairwise(tokens):
        if inline.type == "inline":
            blocks.append((opening.tag, _plain_inline(inline.children or [])))
        elif inline.type in ("fence", "code_block"):
            blocks.append(("pre", inline.content))
    blocks = [(tag, text.strip()) for tag, text in blocks if text.strip()]
    headings = [i for i, (tag, _) in enumerate(blocks) if tag == "h1"]
    if headings:
        title = blocks.pop(headings[0])[1]
        return title, [text for _, text in blocks]
    texts = [text for _, text in blocks]
    if not texts:
        return "", []
    title, _, rest = texts[0].partition("\n")
    return title.strip(), _blank_line_paragraphs(rest) + texts[1:]


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


READERS: dict[str, Callable[[str], tuple[str, list[str]]]] = {
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
        raise _Unusable(f"it is not valid UTF-8 (byte {error.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_document(path: Path, doc_id: str) -> Document:
    """One file as a document; raises _Unusable with the reason it cannot be one."""
    reader = READERS[path.suffix.lower()]
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise _Unusable(f"it cannot be read ({error.strerror or error})") from None
    try:
        title, paragraphs = reader(_decode(raw))
    except (_Unusable, ImportError):  # a missing library is the installation's fault, not the file's
        raise
    except Exception as error:  # a parser choking on a malformed file must not stop the rest
        raise _Unusable(f"it could not be parsed ({type(error).__name__})") from None
    if not paragraphs:
        raise _Unusable("it has no text besides its title")
    return Document(doc_id=doc_id, title=title, paragraphs=tuple(paragraphs))


def _files(root: Path) -> list[Path]:
    """Files under root in sorted path order; hidden files and folders (.git, .DS_Store) are not part of it."""
    found: list[str] = []
    for folder, subfolders, names in os.walk(root, onerror=_raise):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [os.path.join(folder, name) for name in names if not name.startswith(".")]
    return [Path(path) for path in sorted(found, key=lambda path: path.split(os.sep))]


def _raise(error: OSError) -> None:
    raise error


def corpus_files(path: Path) -> tuple[Path, list[Path]]:
    """The folder doc_ids are relative to, and the corpus's files in order; raises CorpusError."""
    path = Path(path)
    if path.is_dir():
        try:
            return path, _files(path)
        except OSError as error:
            raise CorpusError(f"corpus cannot be read: {error}") from None
    if path.is_file():
        return path.parent, [path]
    raise CorpusError(f"corpus not found: {path}")


def load_corpus(path: Path) -> Corpus:
    """Every usable document under path, with a warning naming each file that was skipped and why."""
    root, files = corpus_files(path)
    documents: list[Document] = []
    warnings: list[str] = []
    for file in files:
        doc_id = file.relative_to(root).as_posix()
        if file.suffix.lower() not in READERS:
            warnings.append(f"skipped {doc_id}: not a .txt, .md or .html file")
            continue
        try:
            documents.append(read_document(file, doc_id))
        except _Unusable as reason:
            warnings.append(f"skipped {doc_id}: {reason}")
    if not documents:
        raise CorpusError(f"no usable document in {path}" + (f" ({warnings[0]})" if len(warnings) == 1 else ""))
    return Corpus(documents=tuple(documents), warnings=tuple(warnings))
