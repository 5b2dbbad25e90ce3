"""The passage index: quotable sentences grouped by paragraph, scored with BM25."""

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from retrieval.analysis import analyze, collapse_whitespace, sentence_spans
from retrieval.corpus import Corpus, CorpusError, Document
from retrieval.furniture import ends_story, is_notice, is_prose


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    terms: frozenset[str]


@dataclass(frozen=True)
class Passage:
    """One paragraph of story: the unit BM25 ranks, and the context its sentences are quoted from."""

    document: Document
    paragraph: int  # counted from 1, as readers count them
    sentences: tuple[Sentence, ...]  # only those worth quoting
    terms: tuple[str, ...]

    @property
    def text(self) -> str:
        return self.document.paragraphs[self.paragraph - 1]

    def quote(self, first: int, last: int) -> str:
        """Sentences first..last as one verbatim piece of the paragraph, white space collapsed."""
        return collapse_whitespace(self.text[self.sentences[first].start : self.sentences[last].end])


def _passages(document: Document) -> list[Passage]:
    passages: list[Passage] = []
    for number, paragraph in enumerate(document.paragraphs, start=1):
        if ends_story(paragraph):
            break
        spans = sentence_spans(paragraph)
        texts = [paragraph[start:end] for start, end in spans]
        if not is_prose(texts):
            continue
        kept = [(span, analyze(text)) for span, text in zip(spans, texts, strict=True) if not is_notice(text)]
        terms = tuple(term for _, sentence_terms in kept for term in sentence_terms)
        if terms:
            sentences = tuple(Sentence(start, end, frozenset(t)) for (start, end), t in kept)
            passages.append(Passage(document, number, sentences, terms))
    return passages


class Index:
    """BM25 (rank-bm25's Okapi variant) over the passages of a corpus."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.passages = [passage for document in corpus.documents for passage in _passages(document)]
        if not self.passages:
            raise CorpusError("the corpus has no story text to quote, only titles, captions or page furniture")
        self._bm25 = BM25Okapi([list(passage.terms) for passage in self.passages])
        document_frequency = Counter(term for passage in self.passages for term in set(passage.terms))
        total = len(self.passages)
        # Lucene's smoothed idf: always positive, and largest for a term the corpus lacks.
        self._idf = {term: math.log(1 + (total - n + 0.5) / (n + 0.5)) for term, n in document_frequency.items()}
        self._unseen_idf = math.log(1 + (total + 0.5) / 0.5)

    def scores(self, terms: list[str]) -> np.ndarray:
        return self._bm25.get_scores(terms)

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unseen_idf)
