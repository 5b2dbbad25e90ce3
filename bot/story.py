"""Which story the bot serves: the configured corpus, else the one that ships with StoryBot."""

import logging
from dataclasses import dataclass
from pathlib import Path

from retrieval.corpus import Corpus, load_corpus
from retrieval.index import Index

BUNDLED_STORY = Path(__file__).parent / "story"
# Questions the bundled story really answers, offered to people who do not know what to ask.
BUNDLED_EXAMPLES = (
    "Why might Russia need North Korean artillery?",
    "Why is Kim's train so slow?",
    "Who is Sergei Shoigu?",
)

log = logging.getLogger("storybot")


@dataclass(frozen=True)
class Story:
    index: Index
    examples: tuple[str, ...]
    source: Path

    @property
    def corpus(self) -> Corpus:
        return self.index.corpus


def open_story(corpus: Path | None) -> Story:
    """The story's index, each skipped file logged as a warning; raises CorpusError when none is usable."""
    source = corpus or BUNDLED_STORY
    loaded = load_corpus(source)
    for warning in loaded.warnings:
        log.warning(warning)
    return Story(Index(loaded), BUNDLED_EXAMPLES if corpus is None else (), source)
