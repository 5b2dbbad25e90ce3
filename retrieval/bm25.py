"""BM25 scored exactly as rank-bm25's BM25Okapi scores it, from sparse postings of term counts.

rank-bm25 walks every passage's term counts for each question: a third of a second at 200,000
passages. Here a question reads the postings of its own terms only, as bm25s does. The postings keep
raw counts, not finished scores: the number of passages, their average length and every idf belong to
the whole current corpus, which changes as documents are added and removed (see index.py), so they
are applied when a question is asked.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# rank-bm25's defaults for BM25Okapi.
K1 = 1.5
B = 0.75
EPSILON = 0.25


@dataclass(frozen=True)
class Postings:
    """One segment's postings by term: term t's are passages[offsets[t] : offsets[t + 1]], ascending, each with how
    often t occurs in it. Terms past the end of offsets (added to the vocabulary later) occur in none."""

    offsets: np.ndarray  # int64, one more than the terms known when the segment was made
    passages: np.ndarray  # int32
    counts: np.ndarray  # int32

    @classmethod
    def build(cls, passage_terms: Sequence[np.ndarray], term_count: int) -> "Postings":
        """From each passage's term ids, repeats and all."""
        size = len(passage_terms)
        lengths = np.fromiter((len(terms) for terms in passage_terms), dtype=np.int64, count=size)
        every_term = np.concatenate(passage_terms).astype(np.int64) if size else np.zeros(0, np.int64)
        passage_of = np.repeat(np.arange(size, dtype=np.int64), lengths)
        pairs, counts = np.unique(every_term * size + passage_of, return_counts=True)  # by term, then passage
        terms, passages = np.divmod(pairs, max(size, 1))
        offsets = np.concatenate(([0], np.cumsum(np.bincount(terms, minlength=term_count)))).astype(np.int64)
        return cls(offsets, passages.astype(np.int32), counts.astype(np.int32))

    @property
    def term_count(self) -> int:
        return len(self.offsets) - 1

    def frequency(self, term_count: int) -> np.ndarray:
        """How many passages hold each term, for term ids 0 .. term_count - 1."""
        frequency = np.zeros(term_count, dtype=np.int64)
        known = min(term_count, self.term_count)
        frequency[:known] = np.diff(self.offsets[: known + 1])
        return frequency

    def of(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        if not 0 <= term < self.term_count:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        span = slice(self.offsets[term], self.offsets[term + 1])
        return self.passages[span], self.counts[span]


@dataclass(frozen=True)
class Part:
    """One segment as BM25 sees it: its postings, its passages' lengths in terms, which of them are current (None:
    all), and the number of its first passage in the whole index."""

    postings: Postings
    lengths: np.ndarray
    live: np.ndarray | None
    base: int


class SparseBM25:
    """BM25Okapi over the current passages of one or more parts, with corpus-wide statistics."""

    def __init__(self, parts: Sequence[Part], frequency: np.ndarray, size: int, total_length: int) -> None:
        """frequency: how many current passages hold each term; size: how many passages are current; total_length:
        their lengths summed."""
        self.parts = tuple(parts)
        self.idf = okapi_idf(frequency, size)
        self.average_length = total_length / size if size else 1.0
        self.extent = max((part.base + len(part.lengths) for part in self.parts), default=0)

    @classmethod
    def build(cls, passage_terms: Sequence[np.ndarray], term_count: int) -> "SparseBM25":
        """One part of passages given by their term ids, repeats and all: as rank-bm25 is given a corpus."""
        postings = Postings.build(passage_terms, term_count)
        lengths = np.fromiter((len(terms) for terms in passage_terms), dtype=np.int64, count=len(passage_terms))
        part = Part(postings, lengths, None, 0)
        return cls([part], postings.frequency(term_count), len(passage_terms), int(lengths.sum()))

    def scores(self, terms: Sequence[int]) -> np.ndarray:
        """Every passage's score, as rank-bm25's get_scores gives it (terms outside the vocabulary add nothing)."""
        passages, weights = self._postings(terms)
        scores = np.zeros(self.extent)
        np.add.at(scores, passages, weights)
        return scores

    def top(self, terms: Sequence[int], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best of the passages holding any of the terms, best first, ties in passage order; and their scores.

        Okapi scores can be zero or below for terms in half the passages or more, so what holds a term is
        known from the postings, not from the score.
        """
        passages, weights = self._postings(terms)
        # Each term's postings are in passage order, so a stable sort (timsort) only merges the runs.
        order = np.argsort(passages, kind="stable")
        passages = passages[order]
        starts = np.flatnonzero(np.diff(passages, prepend=-1))
        scores = np.add.reduceat(weights[order], starts) if len(starts) else np.zeros(0)
        passages = passages[starts]
        if len(scores) > k:
            kth = np.partition(scores, len(scores) - k)[len(scores) - k]
            keep = np.flatnonzero(scores >= kth)
            passages, scores = passages[keep], scores[keep]
        order = np.lexsort((passages, -scores))[:k]
        return passages[order], scores[order]

    def _postings(self, terms: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Every current (passage, what the term adds to its score) of the terms, passages numbered index-wide."""
        known = [t for t in terms if 0 <= t < len(self.idf)]
        found: list[np.ndarray] = []
        counts: list[np.ndarray] = []
        lengths: list[np.ndarray] = []
        idf: list[np.ndarray] = []
        for part in self.parts:
            blocks = [part.postings.of(term) for term in known]
            passages = np.concatenate([block[0] for block in blocks]) if blocks else np.zeros(0, np.int32)
            held = np.concatenate([block[1] for block in blocks]) if blocks else np.zeros(0, np.int32)
            # Unless damaged where a large kept index is not checked (see store.py), every posting is sound.
            current = (passages >= 0) & (passages < len(part.lengths)) & (held > 0)
            if part.live is not None:
                current &= part.live[np.where(current, passages, 0)]
            if not current.all():
                passages, held = passages[current], held[current]
                blocks = [
                    (block[0][keep], block[1]) for block, keep in zip(blocks, _split(current, blocks), strict=True)
                ]
            found.append(passages.astype(np.int64) + part.base)
            counts.append(held)
            lengths.append(part.lengths[passages])
            idf.append(np.repeat(self.idf[known], [len(block[0]) for block in blocks]))
        if not found:
            return np.zeros(0, np.int64), np.zeros(0)
        held, length = np.concatenate(counts), np.concatenate(lengths)
        # rank-bm25's formula, in its order of operations.
        weights = np.concatenate(idf) * (held * (K1 + 1) / (held + K1 * (1 - B + B * length / self.average_length)))
        return np.concatenate(found), weights


def _split(mask: np.ndarray, blocks: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """A mask over blocks laid end to end, cut back into one mask per block."""
    return np.split(mask, np.cumsum([len(block[0]) for block in blocks])[:-1])


def okapi_idf(frequency: np.ndarray, size: int) -> np.ndarray:
    """rank-bm25's Okapi idf: log((N - n + 0.5) / (n + 0.5)), a negative one raised to EPSILON x the mean over the
    terms that occur."""
    idf = np.log(size - frequency + 0.5) - np.log(frequency + 0.5)
    occurring = frequency > 0
    if occurring.any():
        idf[(idf < 0) & occurring] = EPSILON * idf[occurring].mean()
    return idf
