"""Meaning beyond shared words: sentence vectors from WordLlama, whose weights ship inside its wheel.

People in a chat rarely use the story's words ("how quick is kims train" for "unable to travel faster
than 59 km/h"); a static embedding model sees that the two are about the same thing, in microseconds
and without torch. The model is loaded once, from the installed package, with downloads disabled:
nothing here ever reaches a model hub.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from functools import cache
from pathlib import Path
from typing import TypeVar

import numpy as np

from retrieval.errors import ModelError

# Sentence vectors kept per index: the story's all, an archive's most recently asked about.
CACHED_VECTORS = 50_000


Embed = Callable[[list[str]], np.ndarray]
K = TypeVar("K", bound=Hashable)


@cache
def embedder() -> Embed:
    """The loaded model's embedding function: texts in, unit-length float32 rows out.

    Raises ModelError, so that a broken install stops the bot at start, not in mid-conversation.
    """
    try:
        import wordllama
        from wordllama import WordLlama

        # The package's own folder holds weights/ and tokenizers/, which is where load() looks in cache_dir.
        model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    except Exception as error:  # any failure of a third-party loader means the same to a user
        raise ModelError(f"cannot load the WordLlama model from its installed package ({error})") from None

    def embed(texts: list[str]) -> np.ndarray:
        with np.errstate(invalid="ignore"):  # a text of no words has no direction: its row is zeros, not NaN
            return np.nan_to_num(np.asarray(model.embed(texts, norm=True), dtype=np.float32))

    return embed


class SentenceVectors:
    """The vectors of an index's sentences, embedded when first needed and kept in a bounded LRU. Shared by the
    indexes a live corpus's updates make, so used from the thread that prepares an update too: one caller at a time."""

    def __init__(self, embed: Embed, limit: int = CACHED_VECTORS) -> None:
        self._embed, self._limit = embed, limit
        self._vectors: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, keys: Sequence[K], texts: Callable[[K], str]) -> np.ndarray:
        """One row per key, in order; texts(key) gives what to embed for a key not seen before."""
        with self._lock:
            missing = [key for key in dict.fromkeys(keys) if key not in self._vectors]
            if missing:
                for key, vector in zip(missing, self._embed([texts(key) for key in missing]), strict=True):
                    self._vectors[key] = vector
            rows = np.stack([self._vectors[key] for key in keys]) if keys else np.zeros((0, 1), dtype=np.float32)
            for key in keys:
                self._vectors.move_to_end(key)
            while len(self._vectors) > self._limit:
                self._vectors.popitem(last=False)
            return rows
