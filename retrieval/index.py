"""The passage index: quotable sentences grouped by paragraph, scored with BM25.

Everything is held in flat NumPy arrays, so that an archive of hundreds of thousands of passages
loads from disk in a moment (see store.py) and a passage becomes Python objects only when a
question reaches it.

An index is made of segments, as Lucene's is: documents indexed together, never changed after. A
document added or edited goes into a small new segment and its old version is marked gone, so an
update costs work in proportion to the document, not to the archive; small segments are merged as
they accumulate. What BM25 needs of the whole corpus (how many passages, their average length, each
term's document frequency) is kept by the index and applied when a question is asked, so scores are
always rank-bm25's over the current corpus.
"""

import itertools
import math
import os
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from retrieval.analysis import collapse_whitespace, is_list, sentence_spans, stem, words
from retrieval.bm25 import Part, Postings, SparseBM25
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

# Paragraphs indexed into one segment at a time when building: memory stays bounded by the batch.
BUILD_BATCH_PARAGRAPHS = 100_000
# Segments smaller than this many passages are merged into one when there are more than MAX_SMALL_SEGMENTS.
SMALL_SEGMENT_PASSAGES = 50_000
MAX_SMALL_SEGMENTS = 8

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
    def pack(cls, strings: Sequence[str]) -> "Strings":
        encoded = [s.encode() for s in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)

    @classmethod
    def stored(cls, arrays: dict[str, np.ndarray], name: str) -> "Strings":
        return cls(arrays[f"{name}_buffer"], arrays[f"{name}_offsets"])

    @classmethod
    def joined(cls, parts: Sequence[tuple["Strings", np.ndarray]]) -> "Strings":
        """The strings picked from each part (by their numbers there), one part after the other."""
        buffers, lengths = [], []
        for strings, picked in parts:
            starts, sizes = strings.offsets[picked], np.diff(strings.offsets)[picked]
            buffers.append(strings.buffer[_ranges(starts, sizes)])
            lengths.append(sizes)
        every = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        offsets = np.concatenate(([0], np.cumsum(every))).astype(np.int64)
        return cls(np.concatenate(buffers) if buffers else np.zeros(0, np.uint8), offsets)

    def to_arrays(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}_buffer": self.buffer, f"{name}_offsets": self.offsets}

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        # Checked UTF-8 on reading, but not in an archive's index left in its file (store.py): damage shows as �.
        return self.buffer[self.offsets[i] : self.offsets[i + 1]].tobytes().decode(errors="replace")

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The positions start .. start + size - 1 of every (start, size), one range after the other."""
    sizes = np.asarray(sizes, dtype=np.int64)
    total = int(sizes.sum())
    if not total:
        return np.zeros(0, np.int64)
    ends = np.cumsum(sizes)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - sizes), sizes)
    positions: np.ndarray = np.arange(total, dtype=np.int64) + shift
    return positions


class Vocabulary:
    """Every term any segment of an index has used, numbered in the order first seen. Only ever grows, so that the
    indexes an update makes share it with the one they came from: a number never changes its term."""

    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = list(terms)
        self.ids = {term: number for number, term in enumerate(self.terms)}

    def __len__(self) -> int:
        return len(self.terms)

    def numbers(self, terms: Sequence[str]) -> np.ndarray:
        """Each term's number, new ones numbered as they come."""
        for term in terms:
            if term not in self.ids:
                self.ids[term] = len(self.terms)
                self.terms.append(term)
        return np.array([self.ids[term] for term in terms], dtype=np.int64)


# The strings of one segment (each a buffer and its offsets); store.py holds the whole schema, with every dtype.
SEGMENT_STRINGS = ("doc_ids", "titles", "texts", "words")

_segment_numbers = itertools.count()


class Segment:
    """Documents indexed together, never changed after: their passages, sentences and term counts."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.key = next(_segment_numbers)  # tells its sentences apart from other segments' in the vector cache
        self.doc_ids = Strings.stored(arrays, "doc_ids")
        self.titles = Strings.stored(arrays, "titles")
        self.texts = Strings.stored(arrays, "texts")
        self.words = Strings.stored(arrays, "words")
        self.word_counts = arrays["word_counts"]
        self.passage_source = arrays["passage_source"]
        self.passage_paragraph = arrays["passage_paragraph"]
        self.passage_sentences = arrays["passage_sentences"]  # passage i's are [i] .. [i + 1]
        self.lengths = arrays["passage_lengths"]
        self.sentence_spans = arrays["sentence_spans"]
        self.sentence_term_offsets = arrays["sentence_term_offsets"]
        self.sentence_terms = arrays["sentence_terms"]
        self.postings = Postings(arrays["bm25_offsets"], arrays["bm25_passages"], arrays["bm25_counts"])

    def __len__(self) -> int:
        return len(self.passage_source)

    @property
    def documents(self) -> int:
        return len(self.doc_ids)

    @property
    def sentences(self) -> int:
        return len(self.sentence_spans)

    def passages_of(self, documents: np.ndarray) -> np.ndarray:
        """The passages of some of its documents, in order."""
        return np.flatnonzero(np.isin(self.passage_source, documents))

    def sentences_of(self, passages: np.ndarray) -> np.ndarray:
        first = self.passage_sentences[passages]
        return _ranges(first, self.passage_sentences[passages + 1] - first)

    def frequency(self, passages: np.ndarray, term_count: int) -> np.ndarray:
        """How many of these passages hold each term: a passage's terms are those of its sentences."""
        sentences = self.sentences_of(passages)
        first = self.sentence_term_offsets[sentences]
        terms = self.sentence_terms[_ranges(first, self.sentence_term_offsets[sentences + 1] - first)]
        owners = np.repeat(
            np.repeat(np.arange(len(passages)), np.diff(self.passage_sentences)[passages]),
            self.sentence_term_offsets[sentences + 1] - first,
        )
        known = (terms >= 0) & (terms < term_count)  # unless damaged where a large kept index is not checked (store.py)
        pairs = np.unique(owners[known] * term_count + terms[known].astype(np.int64))
        return np.bincount(pairs % term_count, minlength=term_count) if term_count else np.zeros(0, np.int64)

    @classmethod
    def merged(cls, parts: Sequence[tuple["Segment", np.ndarray]], term_count: int) -> "Segment":
        """One segment of the current documents of several (each given with a mask of its current documents)."""
        kept_documents = [np.flatnonzero(live) for _, live in parts]
        segments = [segment for segment, _ in parts]
        kept_passages = [s.passages_of(documents) for s, documents in zip(segments, kept_documents, strict=True)]
        kept_sentences = [s.sentences_of(passages) for s, passages in zip(segments, kept_passages, strict=True)]
        source_bases = np.cumsum([0] + [len(documents) for documents in kept_documents])
        passage_bases = np.cumsum([0] + [len(passages) for passages in kept_passages])
        sources, paragraphs, lengths, spans, passage_sentences, offsets, terms = [], [], [], [], [], [], []
        posting_terms, posting_passages, posting_counts = [], [], []
        words: Counter[str] = Counter()
        sentence_base = 0
        for number, (segment, documents, passages, sentences) in enumerate(
            zip(segments, kept_documents, kept_passages, kept_sentences, strict=True)
        ):
            renumber_source = np.full(segment.documents, -1, dtype=np.int64)
            renumber_source[documents] = np.arange(len(documents)) + source_bases[number]
            sources.append(renumber_source[segment.passage_source[passages]])
            paragraphs.append(segment.passage_paragraph[passages])
            lengths.append(segment.lengths[passages])
            spans.append(segment.sentence_spans[sentences])
            per_passage = np.diff(segment.passage_sentences)[passages]
            passage_sentences.append(np.cumsum(per_passage) + sentence_base)
            sentence_base += int(per_passage.sum())
            first = segment.sentence_term_offsets[sentences]
            sizes = segment.sentence_term_offsets[sentences + 1] - first
            offsets.append(sizes)
            terms.append(segment.sentence_terms[_ranges(first, sizes)])
            renumber_passage = np.full(len(segment), -1, dtype=np.int64)
            renumber_passage[passages] = np.arange(len(passages)) + passage_bases[number]
            postings = segment.postings
            term_of = np.repeat(np.arange(postings.term_count), np.diff(postings.offsets))
            new_number = renumber_passage[postings.passages]
            current = new_number >= 0
            posting_terms.append(term_of[current])
            posting_passages.append(new_number[current])
            posting_counts.append(postings.counts[current])
            words.update(dict(zip(segment.words, segment.word_counts.tolist(), strict=True)))
        every_term = np.concatenate(posting_terms)
        order = np.argsort(every_term, kind="stable")  # parts in order, so passages stay ascending within a term
        frequency = np.bincount(every_term, minlength=term_count)
        common = words.most_common()
        strings = {
            "doc_ids": Strings.joined([(s.doc_ids, d) for (s, _), d in zip(parts, kept_documents, strict=True)]),
            "titles": Strings.joined([(s.titles, d) for (s, _), d in zip(parts, kept_documents, strict=True)]),
            "texts": Strings.joined([(s.texts, p) for (s, _), p in zip(parts, kept_passages, strict=True)]),
            "words": Strings.pack([word for word, _ in common]),
        }
        arrays = {key: array for name, packed in strings.items() for key, array in packed.to_arrays(name).items()}
        return cls(
            arrays
            | {
                "word_counts": np.array([count for _, count in common], dtype=np.int64),
                "passage_source": np.concatenate(sources).astype(np.int32),
                "passage_paragraph": np.concatenate(paragraphs).astype(np.int32),
                "passage_sentences": np.concatenate([[0], *passage_sentences]).astype(np.int64),
                "passage_lengths": np.concatenate(lengths).astype(np.int32),
                "sentence_spans": np.concatenate(spans).astype(np.int32).reshape(-1, 2),
                "sentence_term_offsets": np.concatenate([[0], np.cumsum(np.concatenate(offsets))]).astype(np.int64),
                "sentence_terms": np.concatenate(terms).astype(np.int32),
                "bm25_offsets": np.concatenate(([0], np.cumsum(frequency))).astype(np.int64),
                "bm25_passages": np.concatenate(posting_passages)[order].astype(np.int32),
                "bm25_counts": np.concatenate(posting_counts)[order].astype(np.int32),
            }
        )


class Index:
    """The current passages of a corpus: their text, their sentences' spans and terms, and BM25 over them."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        segments: Sequence[Segment],
        live: Sequence[np.ndarray | None] | None = None,
        warnings: Sequence[str] = (),
        vectors: SentenceVectors | None = None,
    ) -> None:
        """live: for each segment, which of its documents are current (None: all of them)."""
        self.vocabulary = vocabulary
        self.segments = tuple(segments)
        self.live = tuple(live) if live is not None else (None,) * len(self.segments)
        self.warnings = tuple(warnings)
        self._vectors = vectors  # shared by the indexes an update makes, so that no sentence is embedded twice
        self._passage_bases = np.cumsum([0] + [len(s) for s in self.segments])
        self._sentence_bases = np.cumsum([0] + [s.sentences for s in self.segments])
        current = [
            None if documents is None else documents[segment.passage_source]
            for segment, documents in zip(self.segments, self.live, strict=True)
        ]
        self._current_passages = current
        pairs = list(zip(self.segments, current, strict=True))
        self._size = sum(len(s) if c is None else int(c.sum()) for s, c in pairs)
        total_length = sum(int(s.lengths.sum() if c is None else s.lengths[c].sum()) for s, c in pairs)
        self._frequency = self._document_frequency()
        parts = [
            Part(s.postings, s.lengths, c, int(base))
            for s, c, base in zip(self.segments, current, self._passage_bases[:-1], strict=True)
        ]
        self._bm25 = SparseBM25(parts, self._frequency, self._size, total_length)
        # Lucene's smoothed idf: always positive, and largest for a term the corpus lacks.
        self._idf = np.log(1 + (self._size - self._frequency + 0.5) / (self._frequency + 0.5))
        self._unseen_idf = math.log(1 + (self._size + 0.5) / 0.5)

    @cached_property
    def _where(self) -> dict[str, tuple[int, int]]:
        """Each current document's segment and place there, by doc_id. Made when first needed: an archive's fifty
        thousand names take a fifth of a second, which a one-question `ask` need not spend."""
        return {
            segment.doc_ids[document]: (number, document)
            for number, (segment, documents) in enumerate(zip(self.segments, self.live, strict=True))
            for document in (range(segment.documents) if documents is None else np.flatnonzero(documents).tolist())
        }

    @cached_property
    def sources(self) -> tuple[Source, ...]:
        """The current documents, in the order of their segments."""
        return tuple(Source(doc_id, self.segments[n].titles[d]) for doc_id, (n, d) in self._where.items())

    def _document_frequency(self) -> np.ndarray:
        count = len(self.vocabulary)
        frequency = np.zeros(count, dtype=np.int64)
        for segment, documents in zip(self.segments, self.live, strict=True):
            frequency += segment.postings.frequency(count)
            if documents is not None and not documents.all():
                frequency -= segment.frequency(segment.passages_of(np.flatnonzero(~documents)), count)
        return np.clip(frequency, 0, self._size)  # as it is, unless a large kept index is damaged (see store.py)

    @classmethod
    def build(cls, corpus: Corpus, progress: Progress | None = None) -> "Index":
        """Index a corpus, a batch of documents at a time; raises CorpusError when it holds nothing to quote."""
        vocabulary = Vocabulary([])
        segments = []
        done = 0
        batches = list(_batches(corpus.documents))
        for batch, (arrays, terms) in zip(batches, _analysed(batches), strict=True):
            segments.append(Segment(_renumbered(arrays, vocabulary.numbers(terms), len(vocabulary))))
            done += len(batch)
            if progress:
                progress(done, len(corpus.documents))
        if not any(len(segment) for segment in segments):
            raise CorpusError("the corpus has no story text to quote, only titles, captions or page furniture")
        return cls(vocabulary, segments, warnings=corpus.warnings)

    def updated(self, added: Sequence[Document], removed: Collection[str] = ()) -> "Index":
        """A new index: this one without the documents named in removed or added, and with the added ones.

        This index is left as it was, to serve until the new one replaces it. Raises CorpusError when nothing
        quotable would be left.
        """
        gone = {*removed, *(document.doc_id for document in added)}
        live = [None if documents is None else documents.copy() for documents in self.live]
        for doc_id in gone & self._where.keys():
            number, document = self._where[doc_id]
            if live[number] is None:
                live[number] = np.ones(self.segments[number].documents, dtype=bool)
            live[number][document] = False  # type: ignore[index]  # made a mask just above
        segments = list(self.segments)
        if added:
            segments.append(_segment(added, self.vocabulary))
            live.append(None)
        segments, live = _merge_small(segments, live, len(self.vocabulary))
        index = Index(self.vocabulary, segments, live, self.warnings, self._recent_vectors)
        if not len(index):
            raise CorpusError("no story text to quote would be left")
        return index

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything the index is made of, by name ("terms_buffer", "s0_texts_buffer", "s0_live"): what store.py
        keeps, and from_arrays() takes back."""
        arrays = Strings.pack(self.vocabulary.terms).to_arrays("terms")
        arrays |= Strings.pack(self.warnings).to_arrays("warnings")
        for number, (segment, documents) in enumerate(zip(self.segments, self.live, strict=True)):
            arrays |= {f"s{number}_{name}": array for name, array in segment.arrays.items()}
            if documents is not None:
                arrays[f"s{number}_live"] = documents
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], segments: int) -> "Index":
        """From what arrays() gave, once store.py has checked that it fits together."""
        parts = [
            {name.removeprefix(f"s{n}_"): array for name, array in arrays.items() if name.startswith(f"s{n}_")}
            for n in range(segments)
        ]
        live = [part.pop("live", None) for part in parts]
        vocabulary = Vocabulary(list(Strings.stored(arrays, "terms")))
        return cls(vocabulary, [Segment(part) for part in parts], live, tuple(Strings.stored(arrays, "warnings")))

    def __len__(self) -> int:
        """How many passages are current."""
        return self._size

    @property
    def terms(self) -> list[str]:
        return self.vocabulary.terms

    def passage(self, number: int) -> Passage:
        at = int(np.searchsorted(self._passage_bases, number, side="right")) - 1
        segment, local = self.segments[at], number - int(self._passage_bases[at])
        first, last = segment.passage_sentences[local], segment.passage_sentences[local + 1]
        offsets = segment.sentence_term_offsets[first : last + 1]
        ids = segment.sentence_terms[offsets[0] : offsets[-1]].tolist()  # one read, where they are left in the file
        terms = self.vocabulary.terms
        sentences = tuple(
            Sentence(int(start), int(end), frozenset(terms[i] for i in ids[low:high] if 0 <= i < len(terms)))
            for (start, end), low, high in zip(
                segment.sentence_spans[first:last], offsets[:-1] - offsets[0], offsets[1:] - offsets[0], strict=True
            )
        )
        document = int(segment.passage_source[local])
        source = Source(segment.doc_ids[document], segment.titles[document])
        paragraph = int(segment.passage_paragraph[local])
        first_sentence = int(self._sentence_bases[at]) + int(first)
        return Passage(number, source, paragraph, segment.texts[local], sentences, first_sentence)

    def passage_counts(self) -> list[int]:
        """How many quotable paragraphs each source has, in the order of `sources`."""
        counts: list[int] = []
        for segment, documents in zip(self.segments, self.live, strict=True):
            per_document = np.bincount(segment.passage_source, minlength=segment.documents)
            counts += (per_document if documents is None else per_document[documents]).tolist()
        return counts

    def passage_at(self, doc_id: str, paragraph: int) -> Passage | None:
        """The passage a citation points to, if that paragraph is one of a current document."""
        if doc_id not in self._where:
            return None
        number, document = self._where[doc_id]
        segment = self.segments[number]
        first, last = np.searchsorted(segment.passage_source, [document, document + 1])
        found = first + np.searchsorted(segment.passage_paragraph[first:last], paragraph)
        if found < last and segment.passage_paragraph[found] == paragraph:
            return self.passage(int(self._passage_bases[number]) + int(found))
        return None

    def top_passages(self, terms: list[str], k: int) -> list[tuple[Passage, float]]:
        """The k passages holding the question's terms that BM25 ranks best, best first, with their scores."""
        ids = [self.vocabulary.ids[t] for t in terms if t in self.vocabulary.ids]
        numbers, scores = self._bm25.top(ids, k)
        return [(self.passage(int(n)), float(s)) for n, s in zip(numbers, scores, strict=True)]

    def idf(self, term: str) -> float:
        number = self.vocabulary.ids.get(term)
        if number is None or number >= len(self._idf) or not self._frequency[number]:
            return self._unseen_idf
        return float(self._idf[number])

    def knows(self, term: str) -> bool:
        number = self.vocabulary.ids.get(term)
        return number is not None and number < len(self._frequency) and bool(self._frequency[number])

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
    def _words(self) -> list[str]:
        """The corpus's words, most used first. A removed document's words stay counted until its segment is merged:
        they only serve to read a misspelt question word as a word of the corpus."""
        if len(self.segments) == 1:
            return list(self.segments[0].words)
        counts: Counter[str] = Counter()
        for segment in self.segments:
            counts.update(dict(zip(segment.words, segment.word_counts.tolist(), strict=True)))
        return [word for word, _ in counts.most_common()]

    @cached_property
    def _vocabulary_vectors(self) -> tuple[list[str], np.ndarray]:
        vocabulary = self._words[:MEANING_VOCABULARY]
        return vocabulary, embedder()(vocabulary) if vocabulary else np.zeros((0, 1), dtype=np.float32)

    @cached_property
    def _words_by_initial(self) -> dict[str, list[str]]:
        """The corpus's words by first letter, which typists rarely get wrong; most used first, so that a
        misspelling equally close to two words is read as the usual one. Made when first needed."""
        words_by_initial: dict[str, list[str]] = {}
        for word in self._words:
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
        numbers = [passage.first_sentence + position for passage, position in sentences]
        every = self._every_sentence_vector
        if every is not None:
            matrix = every[1][self._every_row[numbers]]
        else:
            texts = {
                self._sentence_key(n): passage.quote(at, at)
                for n, (passage, at) in zip(numbers, sentences, strict=True)
            }
            matrix = self._recent_vectors.get([self._sentence_key(n) for n in numbers], texts.__getitem__)
        cosines: np.ndarray = matrix @ vector
        return cosines

    def nearest_passages(self, vector: np.ndarray, k: int) -> list[Passage]:
        """The k passages whose sentences come nearest a vector in meaning, nearest first: what BM25 cannot find when
        a question shares no word with its answer. None in an archive too large to search every sentence of."""
        every = self._every_sentence_vector
        if every is None or not len(every[0]):
            return []
        owners, matrix = every
        order = np.argsort(-(matrix @ vector), kind="stable")
        _, first_seen = np.unique(owners[order], return_index=True)
        return [self.passage(int(owners[order[i]])) for i in sorted(first_seen)[:k]]

    @cached_property
    def _every_sentence_vector(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Each current sentence's passage number and vector, when there are few enough to search them all (a
        story, an article); vectors of sentences seen before come from the cache."""
        numbers = self._current_sentences()
        if numbers is None:
            return None
        owners = np.searchsorted(self._sentence_owner_starts, numbers, side="right") - 1
        keys = [self._sentence_key(int(n)) for n in numbers]
        passages = {
            key: (int(owner), int(n)) for key, owner, n in zip(keys, owners.tolist(), numbers.tolist(), strict=True)
        }

        def text(key: tuple[int, int]) -> str:
            owner, number = passages[key]
            passage = self.passage(owner)
            return passage.quote(number - passage.first_sentence, number - passage.first_sentence)

        matrix = self._recent_vectors.get(keys, text) if keys else np.zeros((0, 1), dtype=np.float32)
        return owners, matrix

    def _current_sentences(self) -> np.ndarray | None:
        """The index-wide numbers of the current sentences, if there are at most MEANING_SEARCH_SENTENCES of them."""
        chosen = []
        bases = self._sentence_bases[:-1]
        for segment, current, base in zip(self.segments, self._current_passages, bases, strict=True):
            passages = np.arange(len(segment)) if current is None else np.flatnonzero(current)
            chosen.append(segment.sentences_of(passages) + int(base))
            if sum(map(len, chosen)) > MEANING_SEARCH_SENTENCES:
                return None
        return np.concatenate(chosen) if chosen else np.zeros(0, np.int64)

    @cached_property
    def _sentence_owner_starts(self) -> np.ndarray:
        """Index-wide number of each passage's first sentence, for every passage of every segment, in order."""
        bases = self._sentence_bases[:-1]
        return np.concatenate([s.passage_sentences[:-1] + b for s, b in zip(self.segments, bases, strict=True)])

    @cached_property
    def _every_row(self) -> np.ndarray:
        """For every sentence number, its row among the current sentences' vectors."""
        rows = np.full(int(self._sentence_bases[-1]), -1, dtype=np.int64)
        numbers = self._current_sentences()
        if numbers is not None:
            rows[numbers] = np.arange(len(numbers))
        return rows

    def _sentence_key(self, number: int) -> tuple[int, int]:
        """What names a sentence in the vector cache, across the indexes an update makes: its segment and place."""
        at = int(np.searchsorted(self._sentence_bases, number, side="right")) - 1
        return self.segments[at].key, number - int(self._sentence_bases[at])

    @cached_property
    def _recent_vectors(self) -> SentenceVectors:
        """Sentence vectors, embedded as questions reach them (or all at once for a story small enough)."""
        return self._vectors or SentenceVectors(embedder())


def _batches(documents: Sequence[Document]) -> Iterator[Sequence[Document]]:
    """The documents in runs of about BUILD_BATCH_PARAGRAPHS paragraphs."""
    start, paragraphs = 0, 0
    for end, document in enumerate(documents, 1):
        paragraphs += len(document.paragraphs)
        if paragraphs >= BUILD_BATCH_PARAGRAPHS or end == len(documents):
            yield documents[start:end]
            start, paragraphs = end, 0


def _merge_small(
    segments: list[Segment], live: list[np.ndarray | None], term_count: int
) -> tuple[list[Segment], list[np.ndarray | None]]:
    """The segments, the small ones merged into one when there are more than MAX_SMALL_SEGMENTS of them."""
    small = [n for n, segment in enumerate(segments) if len(segment) < SMALL_SEGMENT_PASSAGES]
    if len(small) <= MAX_SMALL_SEGMENTS:
        return segments, live
    parts = [(segments[n], np.ones(segments[n].documents, dtype=bool) if live[n] is None else live[n]) for n in small]
    merged = Segment.merged(parts, term_count)  # type: ignore[arg-type]  # every mask made just above
    kept = [n for n in range(len(segments)) if n not in small]
    return [segments[n] for n in kept] + [merged], [live[n] for n in kept] + [None]


def _segment(documents: Sequence[Document], vocabulary: Vocabulary) -> Segment:
    """A segment of documents, its new terms added to the vocabulary."""
    arrays, terms = _analyse(documents)
    return Segment(_renumbered(arrays, vocabulary.numbers(terms), len(vocabulary)))


def _analyse(documents: Sequence[Document]) -> tuple[dict[str, np.ndarray], list[str]]:
    """A segment's arrays with its terms numbered its own way, and those terms: what a worker process can make
    without the vocabulary, which lives in the process that builds the index."""
    builder = _Builder()
    for document in documents:
        builder.add(document)
    return builder.arrays(documents), list(builder.term_ids)


def _analysed(batches: list[Sequence[Document]]) -> Iterator[tuple[dict[str, np.ndarray], list[str]]]:
    """Each batch analysed, in order: by worker processes, one a core, when there is more than one batch."""
    workers = min(
        len(batches), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    if workers < 2:
        yield from map(_analyse, batches)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(_analyse, batches)


def _renumbered(arrays: dict[str, np.ndarray], numbers: np.ndarray, term_count: int) -> dict[str, np.ndarray]:
    """A segment's arrays with its own term numbers made the vocabulary's, postings in the vocabulary's order."""
    offsets = arrays["bm25_offsets"]
    per_term = np.diff(offsets)
    order = np.argsort(numbers, kind="stable")
    frequency = np.zeros(term_count, dtype=np.int64)
    frequency[numbers] = per_term
    picked = _ranges(offsets[:-1][order], per_term[order])
    return arrays | {
        "sentence_terms": numbers[arrays["sentence_terms"]].astype(np.int32),
        "bm25_offsets": np.concatenate(([0], np.cumsum(frequency))).astype(np.int64),
        "bm25_passages": arrays["bm25_passages"][picked],
        "bm25_counts": arrays["bm25_counts"][picked],
    }


class _Builder:
    """Collects passages document by document, then packs them into a segment's arrays, numbering terms its own way."""

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
            term_ids, passage_terms = self.term_ids, []
            for span, sentence_words in kept:
                ids = [term_ids.setdefault(stem(word), len(term_ids)) for word in sentence_words]
                passage_terms += ids
                self.sentence_spans.append(span)
                self.sentence_terms.extend(sorted(set(ids)))
                self.sentence_term_offsets.append(len(self.sentence_terms))
            self.passage_sentences.append(len(self.sentence_spans))
            self.passage_terms.append(np.array(passage_terms, dtype=np.int32))
        self.sources += 1

    def arrays(self, documents: Sequence[Document]) -> dict[str, np.ndarray]:
        postings = Postings.build(self.passage_terms, len(self.term_ids))
        common = self.word_counts.most_common()
        packed = {
            "doc_ids": Strings.pack([d.doc_id for d in documents]),
            "titles": Strings.pack([d.title for d in documents]),
            "words": Strings.pack([word for word, _ in common]),
            "texts": Strings.pack(self.texts),
        }
        arrays = {key: array for name, strings in packed.items() for key, array in strings.to_arrays(name).items()}
        return arrays | {
            "word_counts": np.array([count for _, count in common], dtype=np.int64),
            "passage_source": np.array(self.passage_source, dtype=np.int32),
            "passage_paragraph": np.array(self.passage_paragraph, dtype=np.int32),
            "passage_sentences": np.array(self.passage_sentences, dtype=np.int64),
            "passage_lengths": np.array([len(terms) for terms in self.passage_terms], dtype=np.int32),
            "sentence_spans": np.array(self.sentence_spans, dtype=np.int32).reshape(-1, 2),
            "sentence_term_offsets": np.array(self.sentence_term_offsets, dtype=np.int64),
            "sentence_terms": np.array(self.sentence_terms, dtype=np.int64),
            "bm25_offsets": postings.offsets,
            "bm25_passages": postings.passages,
            "bm25_counts": postings.counts,
        }
