"""The command line as users run it: a real process, its output, its exit status."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.furniture import readable_title

EXAMPLE = "Why might Russia need North Korean artillery?"


def storybot(*args: str, stdin: str = "", cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("STORYBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, "STORYBOT_CACHE_DIR": str(cwd / ".storybot-cache"), **(env or {})},
        timeout=60,
    )


def assert_one_line_error(done: subprocess.CompletedProcess, status: int = 2) -> None:
    assert done.returncode == status
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_ask_json_answers_the_mission_example(tmp_path: Path) -> None:
    done = storybot("ask", "--json", EXAMPLE, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["question"] == EXAMPLE and answer["answered"] is True and answer["outcome"] == "answered"
    assert 1 <= len(answer["quotes"]) <= 3
    assert set(answer["quotes"][0]) == {"text", "doc_id", "title", "paragraph", "score"}
    assert len({q["doc_id"] for q in answer["quotes"]}) == 2
    for quote in answer["quotes"]:
        assert readable_title(quote["title"]) in answer["reply"] and quote["text"] in answer["reply"]


def test_ask_plain_text_cites_title_and_paragraph(tmp_path: Path) -> None:
    done = storybot("ask", "Who is Sergei Shoigu?", cwd=tmp_path)
    assert done.returncode == 0
    assert "[1] Kim Jong Un: North Korea leader appears headed to Russia to meet Putin, paragraph 12" in done.stdout


def test_ask_reads_one_question_per_line_and_skips_blank_lines(tmp_path: Path) -> None:
    done = storybot("ask", "--json", stdin=f"{EXAMPLE}\n\n   \nWho wrote Hamlet?\n\x00\n", cwd=tmp_path)
    assert done.returncode == 0
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["answered"] for a in answers] == [True, False, False]
    assert answers[1]["quotes"] == [] and "`storybot sources`" in answers[1]["reply"]  # no chat commands here


def test_huge_and_hostile_questions_get_a_reply_not_a_traceback(tmp_path: Path) -> None:
    questions = ["x" * 20_000, "<script>alert('&')</script> train?", "\x1b[2J\x07 Kim \u202e train"]
    done = storybot("ask", "--json", stdin="\n".join(questions) + "\n", cwd=tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == 3
    assert "too long" in answers[0]["reply"] and not answers[0]["answered"]
    assert "\x1b" not in answers[2]["question"]


def test_a_corpus_with_one_bad_file_serves_the_good_one(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Trains\n\nThe armored train travels slowly to the border.\n", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00\x01")
    done = storybot("ask", "--json", "--corpus", str(tmp_path), "Which train travels slowly?", cwd=tmp_path)
    assert done.returncode == 0
    assert "bad.txt" in done.stderr and "binary" in done.stderr
    assert json.loads(done.stdout)["quotes"][0]["doc_id"] == "good.txt"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "--frobnicate", "x"], "unrecognized arguments: --frobnicate"),
        (["launch"], "invalid choice"),
        (["ask", "--corpus", "does-not-exist", "x"], "corpus not found"),
        (["ask", "--corpus", ".", "x"], "no usable document"),
    ],
)
def test_bad_command_lines_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    done = storybot(*args, cwd=tmp_path)
    assert_one_line_error(done)
    assert message in done.stderr


def test_bad_setting_names_its_variable(tmp_path: Path) -> None:
    done = storybot("ask", "x", cwd=tmp_path, env={"STORYBOT_LOG_LEVEL": "LOUD"})
    assert_one_line_error(done)
    assert "STORYBOT_LOG_LEVEL" in done.stderr


def test_corpus_setting_comes_from_dot_env_and_the_flag_wins(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Apples\n\nApples grow on trees in the orchard.\n", encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "b.txt").write_text("Boats\n\nBoats float on the lake.\n", encoding="utf-8")
    (tmp_path / ".env").write_text(f"STORYBOT_CORPUS={tmp_path / 'a.txt'}\n", encoding="utf-8")
    from_env = json.loads(storybot("ask", "--json", "Where do apples grow?", cwd=tmp_path).stdout)
    assert from_env["quotes"][0]["doc_id"] == "a.txt"
    from_flag = json.loads(storybot("ask", "--json", "--corpus", "b", "What floats?", cwd=tmp_path).stdout)
    assert from_flag["quotes"][0]["doc_id"] == "b.txt"


def test_the_index_is_kept_and_no_progress_bar_goes_to_a_pipe(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Apples\n\nApples grow on trees in the orchard.\n", encoding="utf-8")
    for _ in range(2):  # built, then loaded
        done = storybot("ask", "--corpus", "a.txt", "Where do apples grow?", cwd=tmp_path)
        assert done.returncode == 0 and done.stderr == "" and "orchard" in done.stdout
    assert len(list((tmp_path / ".storybot-cache").glob("index-*.npz"))) == 1


def test_index_builds_and_keeps_the_index_ahead_of_time(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Apples\n\nApples grow on trees in the orchard.\n", encoding="utf-8")
    built = storybot("index", "--corpus", "a.txt", cwd=tmp_path)
    assert built.returncode == 0 and "1 documents, 1 passages: indexed in" in built.stdout, built.stderr
    kept = list((tmp_path / ".storybot-cache").glob("index-*.npz"))
    assert len(kept) == 1 and str(kept[0]) in built.stdout
    again = storybot("index", "--corpus", "a.txt", cwd=tmp_path)
    assert again.returncode == 0 and "is current" in again.stdout
    written = kept[0].stat().st_mtime_ns
    served = storybot("ask", "--corpus", "a.txt", "Where do apples grow?", cwd=tmp_path)
    assert "orchard" in served.stdout and kept[0].stat().st_mtime_ns == written  # served from it, not rebuilt
    assert_one_line_error(storybot("index", "--corpus", "a.txt", cwd=tmp_path, env={"STORYBOT_CACHE_DIR": ""}))


def test_help_works_on_every_command(tmp_path: Path) -> None:
    for args in ([], ["ask"], ["console"], ["eval"], ["index"], ["run"]):
        done = storybot(*args, "--help", cwd=tmp_path)
        assert done.returncode == 0 and "usage:" in done.stdout


def test_console_behaves_like_a_private_chat(tmp_path: Path) -> None:
    done = storybot("console", stdin=f"/help\n\n/sources\n{EXAMPLE}\n/nope\n/quit\nnever answered\n", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "/sources – the articles I quote from" in out
    assert "1. Nigeria, U.S. others in spectator mode" in out
    assert "limited stockpiles" in out and "Sources:\n[1]" in out
    assert "I don't know the command /nope" in out
    assert "never answered" not in out and "you>" not in out


def test_console_ends_at_end_of_input(tmp_path: Path) -> None:
    done = storybot("console", stdin="Who wrote Hamlet?", cwd=tmp_path)
    assert done.returncode == 0 and "The story does not answer that" in done.stdout
