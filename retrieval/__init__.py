"""StoryBot's retrieval library: a corpus in, an Answer out; no Telegram and no printing.

What the bot and the benchmarks may use is named here; the modules behind it are its own business.
"""

from retrieval.answer import MAX_QUESTION_CHARS, POLICY, Answer, Outcome, Policy, Problem, Quote, answer
from retrieval.corpus import Corpus, CorpusFiles, Document, SkippedFile, corpus_files, load_corpus, quoted, read_file
from retrieval.countries import other_names
from retrieval.errors import CacheError, CorpusError, EvaluationError, ModelError, StoryBotError
from retrieval.evaluation import Tally, evaluate, read_questions
from retrieval.followup import Turn, read_in_context
from retrieval.furniture import readable_title
from retrieval.index import Index, Passage
from retrieval.meaning import embedder
from retrieval.store import Fingerprint, StaleIndex, UnusableIndex, load, save, stored_path

__all__ = [
    "MAX_QUESTION_CHARS",
    "POLICY",
    "Answer",
    "CacheError",
    "Corpus",
    "CorpusError",
    "CorpusFiles",
    "Document",
    "EvaluationError",
    "Fingerprint",
    "Index",
    "ModelError",
    "Outcome",
    "Passage",
    "Policy",
    "Problem",
    "Quote",
    "SkippedFile",
    "StaleIndex",
    "StoryBotError",
    "Tally",
    "Turn",
    "UnusableIndex",
    "answer",
    "corpus_files",
    "embedder",
    "evaluate",
    "load",
    "load_corpus",
    "other_names",
    "quoted",
    "read_file",
    "read_in_context",
    "read_questions",
    "readable_title",
    "save",
    "stored_path",
]
