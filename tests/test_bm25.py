"""The sparse BM25 against rank-bm25 itself, the reference it must reproduce to the last digit that matters."""

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from retrieval.bm25 import SparseBM25


def random_corpus(rng: np.random.Generator) -> tuple[list[list[int]], int]:
    """Passages of Zipf-distributed words, so that some terms are in most passages (zero or negative idf)."""
    vocabulary = int(rng.integers(1, 60))
    weights = 1 / np.arange(1, vocabulary + 1) ** rng.uniform(0.5, 1.5)
    weights /= weights.sum()
    passages = [
        list(rng.choice(vocabulary, size=int(rng.integers(1, 40)), p=weights)) for _ in range(rng.integers(1, 80))
    ]
    return passages, vocabulary


@pytest.mark.parametrize("seed", range(200))
def test_scores_are_rank_bm25_scores(seed: int) -> None:
    rng = np.random.default_rng(seed)
    passages, vocabulary = random_corpus(rng)
    reference = BM25Okapi([[f"t{t}" for t in passage] for passage in passages])
    sparse = SparseBM25.build([np.array(p, dtype=np.int32) for p in passages], vocabulary)
    for _ in range(5):
        query = list(rng.integers(0, vocabulary + 3, size=int(rng.integers(1, 6))))  # some terms unseen, some twice
        expected = reference.get_scores([f"t{t}" for t in query])
        known = [t for t in query if t < vocabulary] + [-1]  # -1 and ids past the vocabulary count for nothing
        np.testing.assert_allclose(sparse.scores(known), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("seed", range(50))
def test_top_passages_are_the_best_holding_a_term_ties_in_order(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    passages, vocabulary = random_corpus(rng)
    sparse = SparseBM25.build([np.array(p, dtype=np.int32) for p in passages], vocabulary)
    query = sorted(set(rng.integers(0, vocabulary, size=3).tolist()))
    scores = BM25Okapi([[f"t{t}" for t in p] for p in passages]).get_scores([f"t{t}" for t in query])
    holding = [i for i, p in enumerate(passages) if set(p) & set(query)]
    expected = sorted(holding, key=lambda i: (-scores[i], i))[:10]
    found, found_scores = sparse.top(query, 10)
    assert found.tolist() == expected
    np.testing.assert_allclose(found_scores, scores[expected], rtol=1e-9, atol=1e-12)


def test_a_question_of_unknown_terms_finds_nothing() -> None:
    sparse = SparseBM25.build([np.array([0, 1]), np.array([1])], 2)
    found, scores = sparse.top([5, -1], 10)
    assert found.size == 0 and scores.size == 0
