"""The passage index: quotable sentences grouped by paragraph, scored with BM25."""

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from retrieval.analysis import collapse_whitespace, sentence_spans, stem, words
from retrieval.corpus import Corpus, CorpusError, Document
from retrieval.furniture import ends_story, is_notice, is_prose

# Shorter words are not respelt (too many neighbours); from LONG_WORD_LENGTH on, two edits are allowed.
MIN_RESPELT_LENGTH = 5
LONG_WORD_LENGTH = 9


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


def _passages(document: Document) -> Iterator[tuple[Passage, list[str]]]:
    """Each quotable paragraph, with the words it is written in."""
    for number, paragraph in enumerate(document.paragraphs, start=1):
        if ends_story(paragraph):
            break
        spans = sentence_spans(paragraph)
        texts = [paragraph[start:end] for start, end in spans]
        if not is_prose(texts):
            continue
        kept = [(span, words(text)) for span, text in zip(spans, texts, strict=True) if not is_notice(text)]
        written = [word for _, sentence_words in kept for word in sentence_words]
        if written:
            sentences = tuple(Sentence(start, end, frozenset(map(stem, w))) for (start, end), w in kept)
            yield Passage(document, number, sentences, tuple(map(stem, written))), written


class Index:
    """BM25 (rank-bm25's Okapi variant) over the passages of a corpus."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        self.passages: list[Passage] = []
        word_counts: Counter[str] = Counter()
        for document in corpus.documents:
            for passage, written in _passages(document):
                self.passages.append(passage)
                word_counts.update(written)
        if not self.passages:
            raise CorpusError("the corpus has no story text to quote, only titles, captions or page furniture")
        self._bm25 = BM25Okapi([list(passage.terms) for passage in self.passages])
        self._postings: dict[str, list[int]] = {}
        for number, passage in enumerate(self.passages):
            for term in set(passage.terms):
                self._postings.setdefault(term, []).append(number)
        document_frequency = Counter({term: len(postings) for term, postings in self._postings.items()})
        total = len(self.passages)
        # Lucene's smoothed idf: always positive, and largest for a term the corpus lacks.
        self._idf = {term: math.log(1 + (total - n + 0.5) / (n + 0.5)) for term, n in document_frequency.items()}
        self._unseen_idf = math.log(1 + (total + 0.5) / 0.5)
        # By first letter, which typists rarely get wrong; most used first, so that a misspelling
        # equally close to two words is read as the usual one.
        self._words_by_initial: dict[str, list[str]] = {}
        for word, _ in word_counts.most_common():
            self._words_by_initial.setdefault(word[0], []).append(word)

    def scores(self, terms: list[str]) -> np.ndarray:
        return self._bm25.get_scores(terms)

    def containing(self, terms: list[str]) -> np.ndarray:
        """The passages that hold any of the terms, in corpus order."""
        found = {number for term in terms for number in self._postings.get(term, ())}
        return np.array(sorted(found), dtype=np.intp)

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unseen_idf)

    def knows(self, term: str) -> bool:
        return term in self._idf

    def term_for(self, word: str) -> str:
        """The term a question word stands for: its own stem, or, if the corpus lacks it, that of the corpus word
        it misspells (one edit away, two for long words, same first letter). Numbers are never respelt: 1755 is not
        1754."""
        term = stem(word)
        edits = 0 if len(word) < MIN_RESPELT_LENGTH else 1 if len(word) < LONG_WORD_LENGTH else 2
        if self.knows(term) or not edits or any(c.isdigit() for c in word):
            return term
        known = self._words_by_initial.get(word[0], [])
        match = process.extractOne(word, known, scorer=DamerauLevenshtein.distance, score_cutoff=edits)
        return stem(match[0]) if match else term
