"""The passage index: quotable sentences grouped by paragraph, scored with BM25.

Everything is held in flat NumPy arrays, so that an archive of hundreds of thousands of passages
loads from disk in a moment (see store.py) and a passage becomes Python objects only when a
question reaches it.
"""

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from retrieval.analysis import collapse_whitespace, is_list, sentence_spans, stem, words
from retrieval.bm25 import SparseBM25
from retrieval.corpus import Corpus, Document
from retrieval.english import surprisal
from retrieval.errors import CorpusError
from retrieval.furniture import ends_story, is_notice, is_prose
from retrieval.meaning import SentenceVectors, embedder

# Shorter words are not respelt (too many neighbours); from LONG_WORD_LENGTH on, two edits are allowed.
MIN_RESPELT_LENGTH = 5
LONG_WORD_LENGTH = 9

# A question word the corpus lacks is read as the corpus word nearest in meaning when their cosine reaches
# this ("ammo" as "ammunition", "quick" as "faster"); unrelated words stay below 0.45 (see the README).
MEANING_MATCH = 0.5
# ... unless it is one of English's few thousand commonest words ("still", "going"), whose nearest
# neighbours say little: surprisal below this (see retrieval/english.py).
MEANING_MIN_SURPRISAL = 3.5
# The corpus words considered for that, most used first: an archive's long tail is names, not synonyms.
MEANING_VOCABULARY = 5_000

# Up to this many sentences, every sentence is embedded once and searched by meaning beside BM25.
MEANING_SEARCH_SENTENCES = 20_000

# Called as documents are indexed: (documents done, documents in all).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Source:
    """A document as the index remembers it: enough to cite it."""

    doc_id: str
    title: str


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    terms: frozenset[str]


@dataclass(frozen=True)
class Passage:
    """One paragraph of story: the unit BM25 ranks, and the context its sentences are quoted from."""

    number: int  # its place in the index
    source: Source
    paragraph: int  # counted from 1, as readers count them
    text: str
    sentences: tuple[Sentence, ...]  # only those worth quoting
    first_sentence: int  # the index's number for sentences[0]; the others follow in order

    @property
    def terms(self) -> frozenset[str]:
        return frozenset().union(*(sentence.terms for sentence in self.sentences))

    def quote(self, first: int, last: int) -> str:
        """Sentences first..last as one verbatim piece of the paragraph, white space collapsed."""
        return collapse_whitespace(self.text[self.sentences[first].start : self.sentences[last].end])


class Strings:
    """Many strings as one UTF-8 buffer and where each starts: loads at disk speed, costs no object per string."""

    def __init__(self, buffer: np.ndarray, offsets: np.ndarray) -> None:
        self.buffer, self.offsets = buffer, offsets

    @classmethod
    def pack(cls, strings: list[str]) -> "Strings":
        encoded = [s.encode() for s in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)

    @classmethod
    def stored(cls, arrays: dict[str, np.ndarray], name: str) -> "Strings":
        return cls(arrays[f"{name}_buffer"], arrays[f"{name}_offsets"])

    def to_arrays(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}_buffer": self.buffer, f"{name}_offsets": self.offsets}

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self.buffer[self.offsets[i] : self.offsets[i + 1]].tobytes().decode()

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


class Index:
    """The passages of a corpus: their text, their sentences' spans and terms, and BM25 over them."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        """From the arrays `arrays()` gave; raises ValueError when they do not fit together."""
        self._arrays = arrays
        self.sources = tuple(
            Source(doc_id, title)
            for doc_id, title in zip(Strings.stored(arrays, "doc_ids"), Strings.stored(arrays, "titles"), strict=True)
        )
        self.warnings = tuple(Strings.stored(arrays, "warnings"))
        self.terms = list(Strings.stored(arrays, "terms"))
        self._term_ids = {term: i for i, term in enumerate(self.terms)}
        self._texts = Strings.stored(arrays, "texts")
        self._passage_source = arrays["passage_source"]
        self._passage_paragraph = arrays["passage_paragraph"]
        self._passage_sentences = arrays["passage_sentences"]  # passage i's are [i] .. [i + 1]
        self._sentence_spans = arrays["sentence_spans"]
        self._sentence_term_offsets = arrays["sentence_term_offsets"]
        self._sentence_terms = arrays["sentence_terms"]
        self._bm25 = SparseBM25(arrays["bm25_offsets"], arrays["bm25_passages"], arrays["bm25_weights"], len(self))
        self._check()
        # Lucene's smoothed idf: always positive, and largest for a term the corpus lacks.
        frequency = np.diff(self._bm25.offsets)
        self._idf = np.log(1 + (len(self) - frequency + 0.5) / (frequency + 0.5))
        self._unseen_idf = math.log(1 + (len(self) + 0.5) / 0.5)

    @classmethod
    def build(cls, corpus: Corpus, progress: Progress | None = None) -> "Index":
        """Index a corpus; raises CorpusError when it holds nothing to quote."""
        builder = _Builder()
        for done, document in enumerate(corpus.documents, 1):
            builder.add(document)
            if progress:
                progress(done, len(corpus.documents))
        if not builder.passage_terms:
            raise CorpusError("the corpus has no story text to quote, only titles, captions or page furniture")
        return cls(builder.arrays(corpus))

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self._arrays)

    def __len__(self) -> int:
        return len(self._passage_source)

    def passage(self, number: int) -> Passage:
        first, last = self._passage_sentences[number], self._passage_sentences[number + 1]
        sentences = tuple(
            Sentence(int(start), int(end), self._sentence_term_set(s))
            for s, (start, end) in enumerate(self._sentence_spans[first:last], start=first)
        )
        source = self.sources[self._passage_source[number]]
        paragraph = int(self._passage_paragraph[number])
        return Passage(number, source, paragraph, self._texts[number], sentences, int(first))

    def passage_counts(self) -> list[int]:
        """How many quotable paragraphs each source has, in the order of `sources`."""
        counts: list[int] = np.bincount(self._passage_source, minlength=len(self.sources)).tolist()
        return counts

    def passage_at(self, doc_id: str, paragraph: int) -> Passage | None:
        """The passage a citation points to, if that paragraph is one."""
        source = next((i for i, s in enumerate(self.sources) if s.doc_id == doc_id), None)
        if source is None:
            return None
        first, last = np.searchsorted(self._passage_source, [source, source + 1])
        found = first + np.searchsorted(self._passage_paragraph[first:last], paragraph)
        return self.passage(int(found)) if found < last and self._passage_paragraph[found] == paragraph else None

    def top_passages(self, terms: list[str], k: int) -> list[tuple[Passage, float]]:
        """The k passages holding the question's terms that BM25 ranks best, best first, with their scores."""
        numbers, scores = self._bm25.top([self._term_ids[t] for t in terms if t in self._term_ids], k)
        return [(self.passage(int(n)), float(s)) for n, s in zip(numbers, scores, strict=True)]

    def idf(self, term: str) -> float:
        number = self._term_ids.get(term)
        return self._unseen_idf if number is None else float(self._idf[number])

    def knows(self, term: str) -> bool:
        return term in self._term_ids

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
        return stem(match[0]) if match else self._nearest_in_meaning(word) or term

    def _nearest_in_meaning(self, word: str) -> str | None:
        """The term of the corpus word closest in meaning to one the corpus lacks, if close enough."""
        vocabulary, vectors = self._vocabulary_vectors
        if not vocabulary or not word.isalpha() or surprisal(word) < MEANING_MIN_SURPRISAL:
            return None
        cosines = vectors @ self.embed(word)
        best = int(np.argmax(cosines))
        return stem(vocabulary[best]) if cosines[best] >= MEANING_MATCH else None

    @cached_property
    def _vocabulary_vectors(self) -> tuple[list[str], np.ndarray]:
        vocabulary = [w for w in itertools.islice(Strings.stored(self._arrays, "words"), MEANING_VOCABULARY)]
        return vocabulary, embedder()(vocabulary) if vocabulary else np.zeros((0, 1), dtype=np.float32)

    @cached_property
    def _words_by_initial(self) -> dict[str, list[str]]:
        """The corpus's words by first letter, which typists rarely get wrong; most used first, so that a
        misspelling equally close to two words is read as the usual one. Made when first needed."""
        words_by_initial: dict[str, list[str]] = {}
        for word in Strings.stored(self._arrays, "words"):
            words_by_initial.setdefault(word[0], []).append(word)
        return words_by_initial

    def embed(self, text: str) -> np.ndarray:
        """A text's unit vector in the meaning model's space."""
        vector: np.ndarray = embedder()([text])[0]
        return vector

    @property
    def searches_by_meaning(self) -> bool:
        """Whether every sentence has a vector, so that passages can be found by meaning alone."""
        return self._every_sentence_vector is not None

    def cosines(self, vector: np.ndarray, sentences: list[tuple[Passage, int]]) -> np.ndarray:
        """The cosine of a vector with each (passage, position) sentence."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        keys = [passage.first_sentence + position for passage, position in sentences]
        every = self._every_sentence_vector
        if every is not None:
            matrix = every[keys]
        else:
            texts = {key: passage.quote(at, at) for key, (passage, at) in zip(keys, sentences, strict=True)}
            matrix = self._recent_vectors.get(keys, texts.__getitem__)
        cosines: np.ndarray = matrix @ vector
        return cosines

    def nearest_passages(self, vector: np.ndarray, k: int) -> list[Passage]:
        """The k passages whose sentences come nearest a vector in meaning, nearest first: what BM25 cannot find when
        a question shares no word with its answer. None in an archive too large to search every sentence of."""
        every = self._every_sentence_vector
        if every is None or not len(every):
            return []
        order = np.argsort(-(every @ vector), kind="stable")
        owners = np.searchsorted(self._passage_sentences, order, side="right") - 1
        _, first_seen = np.unique(owners, return_index=True)
        return [self.passage(int(owners[i])) for i in sorted(first_seen)[:k]]

    @cached_property
    def _every_sentence_vector(self) -> np.ndarray | None:
        """All sentences embedded at once, when there are few enough to search them all (a story, an article)."""
        if len(self._sentence_spans) > MEANING_SEARCH_SENTENCES:
            return None
        owners = np.repeat(np.arange(len(self)), np.diff(self._passage_sentences))
        spans = zip(owners, self._sentence_spans, strict=True)
        texts = [self._texts[int(passage)][start:end] for passage, (start, end) in spans]
        return embedder()(texts) if texts else np.zeros((0, 1), dtype=np.float32)

    @cached_property
    def _recent_vectors(self) -> SentenceVectors:
        """Sentence vectors of a large archive, embedded as questions reach them."""
        return SentenceVectors(embedder())

    def _sentence_term_set(self, sentence: int) -> frozenset[str]:
        ids = self._sentence_terms[self._sentence_term_offsets[sentence] : self._sentence_term_offsets[sentence + 1]]
        return frozenset(self.terms[i] for i in ids)

    def _check(self) -> None:
        passages, sentences = len(self), len(self._sentence_spans)
        fits = (
            len(self._texts) == len(self._passage_paragraph) == passages
            and len(self._passage_sentences) == passages + 1
            and self._passage_sentences[-1] == sentences
            and len(self._sentence_term_offsets) == sentences + 1
            and self._sentence_term_offsets[-1] == len(self._sentence_terms)
            and len(self._bm25.offsets) == len(self.terms) + 1
            and self._bm25.offsets[-1] == len(self._bm25.passages) == len(self._bm25.weights)
            and (passages == 0 or 0 <= self._passage_source.min() <= self._passage_source.max() < len(self.sources))
            and (len(self._sentence_terms) == 0 or self._sentence_terms.max() < len(self.terms))
        )
        if not fits:
            raise ValueError("the index arrays do not fit together")


class _Builder:
    """Collects passages document by document, then packs them into the index's arrays."""

    def __init__(self) -> None:
        self.term_ids: dict[str, int] = {}
        self.word_counts: Counter[str] = Counter()
        self.texts: list[str] = []
        self.passage_source: list[int] = []
        self.passage_paragraph: list[int] = []
        self.passage_sentences: list[int] = [0]
        self.passage_terms: list[np.ndarray] = []
        self.sentence_spans: list[tuple[int, int]] = []
        self.sentence_term_offsets: list[int] = [0]
        self.sentence_terms: list[int] = []
        self.sources = 0

    def add(self, document: Document) -> None:
        for number, paragraph in enumerate(document.paragraphs, start=1):
            if ends_story(paragraph):
                break
            spans = sentence_spans(paragraph)
            texts = [paragraph[start:end] for start, end in spans]
            if not (is_prose(texts) or is_list(paragraph) or number in document.list_items):
                continue
            kept = [(span, words(text)) for span, text in zip(spans, texts, strict=True) if not is_notice(text)]
            written = [word for _, sentence_words in kept for word in sentence_words]
            if not written:
                continue
            self.word_counts.update(written)
            self.texts.append(paragraph)
            self.passage_source.append(self.sources)
            self.passage_paragraph.append(number)
            for span, sentence_words in kept:
                ids = [self.term_ids.setdefault(stem(word), len(self.term_ids)) for word in sentence_words]
                self.sentence_spans.append(span)
                self.sentence_terms.extend(sorted(set(ids)))
                self.sentence_term_offsets.append(len(self.sentence_terms))
            self.passage_sentences.append(len(self.sentence_spans))
            self.passage_terms.append(np.array([self.term_ids[stem(w)] for w in written], dtype=np.int32))
        self.sources += 1

    def arrays(self, corpus: Corpus) -> dict[str, np.ndarray]:
        bm25 = SparseBM25.build(self.passage_terms, len(self.term_ids))
        packed = {
            "doc_ids": Strings.pack([d.doc_id for d in corpus.documents]),
            "titles": Strings.pack([d.title for d in corpus.documents]),
            "warnings": Strings.pack(list(corpus.warnings)),
            "terms": Strings.pack(list(self.term_ids)),
            "words": Strings.pack([word for word, _ in self.word_counts.most_common()]),
            "texts": Strings.pack(self.texts),
        }
        arrays = {key: array for name, strings in packed.items() for key, array in strings.to_arrays(name).items()}
        return arrays | {
            "passage_source": np.array(self.passage_source, dtype=np.int32),
            "passage_paragraph": np.array(self.passage_paragraph, dtype=np.int32),
            "passage_sentences": np.array(self.passage_sentences, dtype=np.int64),
            "sentence_spans": np.array(self.sentence_spans, dtype=np.int32).reshape(-1, 2),
            "sentence_term_offsets": np.array(self.sentence_term_offsets, dtype=np.int64),
            "sentence_terms": np.array(self.sentence_terms, dtype=np.int32),
            "bm25_offsets": bm25.offsets,
            "bm25_passages": bm25.passages,
            "bm25_weights": bm25.weights,
        }
