"""StoryBot's retrieval library: a corpus in, an Answer out; no Telegram and no printing.

What the bot and the benchmarks may use is named here; the modules behind it are its own business.
"""

from retrieval.answer import MAX_QUESTION_CHARS, POLICY, Answer, Outcome, Policy, Problem, Quote, answer
from retrieval.corpus import Corpus, CorpusError, Document, load_corpus
from retrieval.evaluation import EvaluationError, Tally, evaluate, read_questions
from retrieval.followup import Turn, read_in_context
from retrieval.furniture import readable_title
from retrieval.index import Index, Passage
from retrieval.meaning import ModelError

__all__ = [
    "MAX_QUESTION_CHARS",
    "POLICY",
    "Answer",
    "Corpus",
    "CorpusError",
    "Document",
    "EvaluationError",
    "Index",
    "ModelError",
    "Outcome",
    "Passage",
    "Policy",
    "Problem",
    "Quote",
    "Tally",
    "Turn",
    "answer",
    "evaluate",
    "load_corpus",
    "read_in_context",
    "read_questions",
    "readable_title",
]
