"""An index updated document by document scores exactly as rank-bm25 over the corpus as it now is (issue 17, item 2),
cites only current documents, and stores and loads like a fresh one."""

import random
from pathlib import Path

import pytest
from rank_bm25 import BM25Okapi

import retrieval.index
import retrieval.store
from retrieval.analysis import analyze
from retrieval.answer import answer
from retrieval.corpus import Corpus, Document
from retrieval.errors import CorpusError
from retrieval.index import Index
from retrieval.store import FileArray, Fingerprint, load, save

WORDS = (
    "harbour ferry strait dawn storm port winter ice captain cargo tide lighthouse gale pier anchor island "
    "sailor coast fog bell rope deck mast channel reef current beacon quay"
).split()


def document(rng: random.Random, doc_id: str) -> Document:
    paragraphs = []
    for _ in range(rng.randint(1, 4)):
        sentences = [
            " ".join(rng.choices(WORDS, k=rng.randint(3, 9))).capitalize() + "." for _ in range(rng.randint(1, 3))
        ]
        paragraphs.append(" ".join(sentences))
    return Document(doc_id, f"Title {doc_id}", tuple(paragraphs))


def reference_scores(documents: dict[str, Document], index: Index, query: list[str]) -> dict[tuple[str, int], float]:
    """rank-bm25 over every paragraph of the current documents, by (doc_id, paragraph)."""
    keys = [(d.doc_id, n) for d in documents.values() for n in range(1, len(d.paragraphs) + 1)]
    texts = [analyze(documents[doc_id].paragraphs[n - 1]) for doc_id, n in keys]
    scores = BM25Okapi(texts).get_scores(query)
    return dict(zip(keys, scores.tolist(), strict=True))


def assert_scores_as_rank_bm25(documents: dict[str, Document], index: Index, rng: random.Random) -> None:
    assert {s.doc_id for s in index.sources} == set(documents)
    assert len(index) == sum(len(d.paragraphs) for d in documents.values())
    for _ in range(3):
        query = sorted({analyze(word)[0] for word in rng.sample(WORDS, rng.randint(1, 4))})
        expected = reference_scores(documents, index, query)
        found = index.top_passages(query, 1000)
        holding = {k for k in expected if set(query) & set(analyze(documents[k[0]].paragraphs[k[1] - 1]))}
        assert {(p.source.doc_id, p.paragraph) for p, _ in found} == holding
        for passage, score in found:
            assert score == pytest.approx(expected[(passage.source.doc_id, passage.paragraph)], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_any_sequence_of_additions_edits_and_removals_scores_as_rank_bm25(seed: int, monkeypatch) -> None:
    monkeypatch.setattr(retrieval.index, "MAX_SMALL_SEGMENTS", 3)  # so that merges happen along the way
    rng = random.Random(seed)
    documents = {f"d{n}": document(rng, f"d{n}") for n in range(rng.randint(1, 6))}
    index = Index.build(Corpus(tuple(documents.values())))
    assert_scores_as_rank_bm25(documents, index, rng)
    for step in range(15):
        action = rng.choice(["add", "edit", "remove"] if len(documents) > 1 else ["add", "edit"])
        if action == "remove":
            gone = rng.choice(sorted(documents))
            del documents[gone]
            updated = index.updated([], [gone])
        else:
            doc_id = f"n{step}" if action == "add" else rng.choice(sorted(documents))
            documents[doc_id] = document(rng, doc_id)
            updated = index.updated([documents[doc_id]])
        assert_scores_as_rank_bm25(documents, updated, rng)
        index = updated


def test_an_update_leaves_the_index_it_came_from_as_it_was() -> None:
    rng = random.Random(1)
    first = {"a": document(rng, "a"), "b": document(rng, "b")}
    index = Index.build(Corpus(tuple(first.values())))
    before = [(p.source.doc_id, p.text, s) for p, s in index.top_passages(["harbour", "ferri"], 100)]
    index.updated([document(rng, "a")], ["b"])
    after = [(p.source.doc_id, p.text, s) for p, s in index.top_passages(["harbour", "ferri"], 100)]
    assert after == before


def test_an_edited_document_is_quoted_in_its_new_words_only() -> None:
    old = Document("port.txt", "Port", ("The ferry Maribel crossed the strait at dawn.",))
    other = Document("ice.txt", "Ice", ("Ice closed the harbour twice that winter.",))
    index = Index.build(Corpus((old, other)))
    new = Document("port.txt", "Port", ("The ferry Maribel sank off Vellmar in a gale.",))
    updated = index.updated([new])
    quotes = [q.text for q in answer(updated, "What happened to the ferry Maribel?").quotes]
    assert any("sank" in q for q in quotes) and not any("crossed" in q for q in quotes)
    assert updated.passage_at("port.txt", 1) is not None and "sank" in updated.passage_at("port.txt", 1).text
    removed = updated.updated([], ["port.txt"])
    assert removed.passage_at("port.txt", 1) is None
    assert all(q.doc_id == "ice.txt" for q in answer(removed, "What happened to the ferry Maribel?").quotes)


def test_removing_every_document_is_refused() -> None:
    index = Index.build(Corpus((Document("a.txt", "A", ("The ferry crossed the strait.",)),)))
    with pytest.raises(CorpusError):
        index.updated([], ["a.txt"])


def test_an_updated_index_is_kept_and_loaded_as_it_is(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(retrieval.index, "MAX_SMALL_SEGMENTS", 100)  # several segments and a removal to keep
    rng = random.Random(5)
    documents = {f"d{n}": document(rng, f"d{n}") for n in range(4)}
    index = Index.build(Corpus(tuple(documents.values())))
    index = index.updated([document(rng, "x")], ["d1"]).updated([document(rng, "d2")])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    save(index, tmp_path / "index.npz", Fingerprint(corpus))
    loaded = load(tmp_path / "index.npz", Fingerprint(corpus))
    assert loaded.sources == index.sources and len(loaded) == len(index)
    for query in (["harbour"], ["ferri", "strait"], ["gale", "reef", "tide"]):
        expected = [(p.source.doc_id, p.paragraph, s) for p, s in index.top_passages(query, 50)]
        assert [(p.source.doc_id, p.paragraph, s) for p, s in loaded.top_passages(query, 50)] == expected


def test_an_index_left_in_its_file_answers_as_the_one_it_was_saved_from(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(retrieval.store, "_ON_DISK_FROM", 0)  # texts and postings left in the file, as an archive's are
    rng = random.Random(9)
    index = Index.build(Corpus(tuple(document(rng, f"d{n}") for n in range(5)))).updated([], ["d3"])
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    save(index, tmp_path / "index.npz", Fingerprint(corpus))
    loaded = load(tmp_path / "index.npz", Fingerprint(corpus))
    assert isinstance(loaded.segments[0].arrays["texts_buffer"], FileArray)
    for query in (["harbour"], ["ferri", "strait"]):
        expected = [(p.source.doc_id, p.text, s) for p, s in index.top_passages(query, 50)]
        assert [(p.source.doc_id, p.text, s) for p, s in loaded.top_passages(query, 50)] == expected
