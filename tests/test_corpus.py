from pathlib import Path

import pytest

from retrieval.corpus import CorpusError, load_corpus


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_text_title_is_the_first_line_and_paragraphs_count_from_one(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "\n\nThe Title\n\nFirst paragraph.\nStill first.\n\n  \n\nSecond paragraph.\n")
    (document,) = load_corpus(tmp_path).documents
    assert document.title == "The Title"
    assert document.paragraphs == ("First paragraph.\nStill first.", "Second paragraph.")


def test_markdown_syntax_is_removed(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "Intro line.\n\n# Real *Title*\n\nSome **bold** and [a link](http://x).\n\n- one\n- two\n")
    (document,) = load_corpus(tmp_path).documents
    assert document.title == "Real Title"
    assert document.paragraphs == ("Intro line.", "Some bold and a link.", "one", "two")


def test_markdown_without_heading_takes_its_first_line(tmp_path: Path) -> None:
    write(tmp_path / "a.md", "First line\nrest of it.\n\nMore.\n")
    (document,) = load_corpus(tmp_path).documents
    assert (document.title, document.paragraphs) == ("First line", ("rest of it.", "More."))


def test_html_keeps_the_story_and_drops_navigation(tmp_path: Path) -> None:
    body = "".join(
        f"<p>Paragraph {n} tells how the armored train crossed the border near Vladivostok at dawn.</p>"
        for n in range(1, 6)
    )
    html = (
        "<html><head><title>Train News</title></head><body><nav><ul><li><a href='/'>Home</a></li>"
        "<li><a href='/about'>About us</a></li></ul></nav><h1>Headline</h1>"
        f"<article>{body}</article><footer>Copyright 2023. All rights reserved.</footer></body></html>"
    )
    write(tmp_path / "page.html", html)
    (document,) = load_corpus(tmp_path).documents
    assert document.title == "Train News"
    assert document.paragraphs[0].startswith("Paragraph 1 tells")
    assert not any("About us" in p or "rights reserved" in p for p in document.paragraphs)


def test_html_title_falls_back_to_the_first_h1(tmp_path: Path) -> None:
    words = "Some words here. " * 20
    write(tmp_path / "page.htm", f"<html><body><h1>The Heading</h1><p>{words}</p></body></html>")
    (document,) = load_corpus(tmp_path).documents
    assert document.title == "The Heading"


def test_ids_are_paths_in_sorted_order_and_hidden_files_are_not_read(tmp_path: Path) -> None:
    write(tmp_path / "b" / "two.txt", "Two\n\nText.")
    write(tmp_path / "a.txt", "One\n\nText.")
    write(tmp_path / ".git" / "config.txt", "Hidden\n\nText.")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["a.txt", "b/two.txt"]
    assert corpus.warnings == ()


def test_a_single_file_is_a_corpus(tmp_path: Path) -> None:
    path = write(tmp_path / "story.txt", "Title\n\nBody.")
    assert [d.doc_id for d in load_corpus(path).documents] == ["story.txt"]


def test_bad_files_are_skipped_with_a_warning_that_names_them(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", "Good\n\nA fine paragraph.")
    write(tmp_path / "binary.txt", bytes(range(256)))
    write(tmp_path / "latin1.txt", "Caf\xe9\n\nna\xefve text".encode("latin-1"))
    write(tmp_path / "empty.md", "")
    write(tmp_path / "title-only.txt", "Just a title\n")
    write(tmp_path / "notes.pdf", b"%PDF-1.4")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["good.txt"]
    assert sorted(corpus.warnings) == [
        "skipped binary.txt: it is binary, not text",
        "skipped empty.md: it is empty",
        "skipped latin1.txt: it is not valid UTF-8 (byte 3), and its encoding cannot be told with confidence",
        "skipped notes.pdf: not a .txt, .md or .html file",
        "skipped title-only.txt: it has no text besides its title",
    ]


def test_no_usable_document_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no usable document"):
        load_corpus(tmp_path)
    write(tmp_path / "empty.txt", "")
    with pytest.raises(CorpusError, match=r"empty\.txt: it is empty"):
        load_corpus(tmp_path)


def test_missing_corpus_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nowhere")


def test_windows_line_endings_and_bom_are_read(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "\ufeffTitle\r\n\r\nOne.\r\n\r\nTwo.".encode())
    (document,) = load_corpus(tmp_path).documents
    assert (document.title, document.paragraphs) == ("Title", ("One.", "Two."))


def test_list_items_are_quotable_sentences(tmp_path: Path) -> None:
    from retrieval import answer
    from retrieval.index import Index

    items = "- The old crane gets replaced\n* Moorings stay free\n1. Pier repairs cost four million euros\n"
    write(tmp_path / "a.txt", f"Harbour news\n\nThe council decided:\n{items}")
    write(tmp_path / "b.md", "# Lighthouse\n\nThe keeper said:\n\n- Lamps lit nightly\n- The fog horn was sold\n")
    index = Index.build(load_corpus(tmp_path))
    found = answer(index, "how much did the pier repairs cost")
    assert found.quotes[0].text == "Pier repairs cost four million euros"
    sold = answer(index, "what happened to the fog horn")
    assert "The fog horn was sold" in sold.quotes[0].text


def test_text_that_is_not_utf8_is_read_when_its_encoding_is_clear(tmp_path: Path) -> None:
    german = (
        "Das Haus am See\n\nDas Haus am See wurde gestern für eine große Summe verkauft. Der Käufer zahlte viel "
        "Geld für die schöne Aussicht über den großen See, sagte der Makler. Die Nachbarn waren überrascht."
    )
    write(tmp_path / "see.txt", german.encode("cp1252"))
    corpus = load_corpus(tmp_path)
    assert corpus.warnings == () and "für eine große Summe" in corpus.documents[0].text
