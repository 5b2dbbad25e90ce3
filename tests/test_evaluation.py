"""The evaluation command: question files of both formats, tallies that count what happened, one table."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.corpus import load_corpus
from retrieval.evaluation import EvaluationError, PlainBM25, Question, Tally, evaluate, read_questions

FERRIES = (
    "Ferries\n\nThe harbour ferry Maribel crossed the strait at dawn. Forty passengers were aboard.\n\n"
    "Storms closed the port of Vellmar for a week in March.\n"
)
ORCHARDS = (
    "Orchards\n\nThe Quillon orchard grows pears on the southern slope. Its cider won a prize in 1998.\n\n"
    "Frost killed the apricot blossom in April.\n"
)


def write_lines(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "Ferries.txt").write_text(FERRIES, encoding="utf-8")
    (tmp_path / "corpus" / "Orchards.txt").write_text(ORCHARDS, encoding="utf-8")
    return load_corpus(tmp_path / "corpus")


def test_both_formats_are_read_and_squad_impossible_questions_skipped(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "q.jsonl",
        [
            {"question": "Who?", "answers": ["Maribel"], "article": "Ferries", "is_impossible": False},
            {"question": "What is France a region of?", "answers": [], "article": "Ferries", "is_impossible": True},
            {"q": "Why?", "gold": ["dawn", "Forty"], "kind": "answerable", "both": True},
            {"q": "Who wrote Hamlet?", "kind": "offtopic"},
        ],
    )
    assert read_questions(path) == [
        Question("Who?", ("Maribel",), document="Ferries"),
        Question("Why?", ("dawn", "Forty"), all_answers=True),
        Question("Who wrote Hamlet?", ()),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json\n", "line 1: not a question"),
        ('{"q": "Anything?"}\n', 'must have "kind": "offtopic"'),
        ('{"q": 3, "gold": ["x"]}\n', "line 1: not a question"),
        ("\n\n", "holds no questions"),
    ],
)
def test_unusable_question_files_say_why(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "q.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(EvaluationError, match=message):
        read_questions(tmp_path / "q.jsonl")


def test_a_tally_counts_hits_first_hits_declines_and_characters() -> None:
    tally = Tally()
    tally.record(Question("How many were aboard?", ("Forty",)), ("answered", ["At dawn.", "Forty passengers."]), 0.001)
    tally.record(Question("When, and what?", ("dawn", "pears"), all_answers=True), ("closest", ["At dawn."]), 0.001)
    tally.record(Question("Why?", ("“curly” quotes",)), ("closest", ['Say "curly"  quotes.']), 0.001)
    tally.record(Question("d", ()), ("declined", []), 0.001)
    tally.record(Question("e", ()), ("closest", ["Something."]), 0.001)
    tally.record(Question("f", (), related=True), ("answered", ["Something."]), 0.001)
    # The second misses one of the answers it needs, yet its first quote holds one of them.
    assert (tally.answerable, tally.hits, tally.first_hits, tally.off_topic, tally.declined) == (3, 2, 2, 2, 1)
    assert (tally.answered_right, tally.closest_right, tally.wrong, tally.missed) == (1, 1, 1, 0)
    assert (tally.related, tally.related_confident) == (1, 1)
    rows = tally.rows()
    assert rows["reply holds the answer"] == pytest.approx(2 / 3)
    assert rows["quoted characters per answer"] == pytest.approx((8 + 17 + 8 + 20) / 3)
    assert rows["milliseconds per question"] == pytest.approx(1.0)
    assert rows["first quote holds it: how many"] == 0.0 and rows["first quote holds it: when"] == 1.0


def test_the_baseline_quotes_the_top_three_naive_sentences(corpus) -> None:
    baseline = PlainBM25(corpus.documents)
    outcome, quotes = baseline("When did the ferry cross the strait?")
    assert outcome == "answered"
    assert len(quotes) == 3 and quotes[0] == "The harbour ferry Maribel crossed the strait at dawn."


def test_per_document_stories_answer_their_own_questions_and_decline_the_others(corpus) -> None:
    questions = [
        Question("When did the ferry Maribel cross the strait?", ("dawn",), document="Ferries"),
        Question("What prize did the Quillon orchard cider win in 1998?", ("prize",), document="Orchards"),
        Question("What does the Quillon orchard grow on the southern slope?", ("pears",), document="Orchards"),
    ]
    tallies = evaluate(corpus, questions, per_document=True)
    mine, baseline = tallies["StoryBot"], tallies["plain BM25"]
    assert (mine.answerable, mine.hits) == (3, 3)
    # Each story is also asked the first of the other story's questions, and must decline it.
    assert (mine.off_topic, mine.declined) == (2, 2)
    assert (baseline.off_topic, baseline.declined) == (2, 0)


def test_per_document_needs_every_article_to_be_a_document(corpus) -> None:
    with pytest.raises(EvaluationError, match="no document is named 'Boats'"):
        evaluate(corpus, [Question("Which boat?", ("x",), document="Boats")], per_document=True)


def test_the_command_prints_both_systems_side_by_side(tmp_path: Path, corpus) -> None:
    questions = write_lines(
        tmp_path / "q.jsonl",
        [
            {"q": "When did the ferry Maribel cross the strait?", "gold": ["dawn"]},
            {"q": "Who wrote Hamlet?", "kind": "offtopic"},
        ],
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "eval", "--corpus", str(tmp_path / "corpus"), "--questions", str(questions)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "STORYBOT_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "| | StoryBot | plain BM25 |"
    assert "| reply holds the answer | 1.000 | 1.000 |" in lines
    assert "| off-topic declined | 1.000 | 0.000 |" in lines
    assert lines[-1] == "1 answerable and 1 off-topic questions asked."


def test_a_missing_question_file_is_a_one_line_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "eval", "--questions", str(tmp_path / "nope.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "STORYBOT_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"storybot: error: cannot read {tmp_path / 'nope.jsonl'}: No such file or directory"
    ]
