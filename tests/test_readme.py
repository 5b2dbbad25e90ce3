"""The README as a newcomer reads it: its set-up command pasted into a fresh copy of the project, then a
question and the console; and every later `storybot` command names a real subcommand.

Offline by construction: the new venv sees the packages of the interpreter running the tests (a .pth file),
pip is told there is no index and no config file, and the editable build runs without isolation.
"""

import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
QUESTION = "Who is Sergei Shoigu?"
# What a fresh checkout does not have: this venv, caches, build output, a developer's .env.
NOT_IN_A_CHECKOUT = shutil.ignore_patterns(
    ".git", ".venv", "venv", "__pycache__", ".*_cache", ".hypothesis", "*.egg-info", "build", "dist", ".env",
    ".storybot-cache",
)  # fmt: skip
# A quoted sentence about Shoigu followed by its citation marker, as the story's answer prints it.
SHOIGU_QUOTED = re.compile(r"^.*Shoigu.*\[\d+\]\s*$", re.MULTILINE)


def readme_section(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.find(f"\n{heading}\n")
    assert start >= 0, f"README.md has no {heading!r} heading"
    end = text.find("\n## ", start + len(heading) + 2)
    return text[start : end if end >= 0 else len(text)]


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of each fenced code block, in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def two_commands() -> tuple[str, str]:
    blocks = [body for language, body in fenced_blocks(readme_section("## Two commands")) if language == "sh"]
    assert len(blocks) == 2, f"'## Two commands' should hold two sh blocks, not {len(blocks)}"
    setup, tests = (" ".join(block.replace("\\\n", " ").split()) for block in blocks)
    return setup, tests


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The developer's environment without what would change the outcome: settings, pip config, PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORYBOT_", "PIP_", "PYTHON", "VIRTUAL_ENV"))}
    return {
        **env,
        "STORYBOT_CACHE_DIR": str(tmp_path / "storybot-cache"),
        "PIP_CONFIG_FILE": os.devnull,  # no index or find-links from the developer's pip.conf
        "PIP_NO_INDEX": "1",
        # pip reads a boolean environment variable as the value of the option's *destination*, so that
        # PIP_NO_BUILD_ISOLATION=1 would mean build_isolation=True; 0 is what --no-build-isolation does.
        "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def bash(command: str, cwd: Path, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=300
    )


def same_python(command: str, env: dict[str, str]) -> str:
    """The venv command as written, unless its python3 is not this interpreter's version (whose packages the
    new venv will see): then this interpreter's."""
    python3 = shutil.which("python3", path=env.get("PATH"))
    if python3 is not None:
        found = subprocess.run(
            [python3, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True, text=True, env=env
        )
        if found.stdout.split() == [str(part) for part in sys.version_info[:2]]:
            return command
    return re.sub(r"^python3(?=\s)", shlex.quote(sys.executable), command)


def see_running_packages(venv: Path) -> None:
    """Let the new venv import what the running interpreter has installed, as if pip had fetched it."""
    where = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    paths = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(where.stdout.strip()) / "_running_interpreter.pth").write_text("\n".join(paths) + "\n", encoding="utf-8")


def skip_unless_offline_build_works(venv: Path) -> None:
    """Without build isolation, setuptools builds the editable install with whatever the new venv imports."""
    probe = subprocess.run(
        [
            venv / "bin" / "python", "-c",
            "import importlib.util, setuptools; v = tuple(int(p) for p in setuptools.__version__.split('.')[:2]);"
            "print(v >= (64, 0) and (v >= (70, 1) or importlib.util.find_spec('wheel') is not None))",
        ],
        capture_output=True, text=True,
    )  # fmt: skip
    if probe.stdout.strip() != "True":
        pytest.skip(
            "an offline editable build needs setuptools>=64 with bdist_wheel (setuptools>=70.1, or the `wheel` "
            "package) importable in a new venv; install `wheel` into the test environment"
        )


def test_readme_setup_then_ask_and_console_in_a_fresh_copy(tmp_path: Path) -> None:
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed here, so the editable install cannot be built offline")
    setup, _ = two_commands()
    pieces = [piece.strip() for piece in setup.split("&&")]
    assert any("pip install" in piece for piece in pieces[:-1]), setup
    *install, console = pieces
    project = tmp_path / "storybot"
    shutil.copytree(ROOT, project, ignore=NOT_IN_A_CHECKOUT)
    env = clean_env(tmp_path)
    chat_env = {**env, "HOME": str(tmp_path / "home")}  # the console's readline history goes here
    (tmp_path / "home").mkdir()

    assert re.match(r"python3? -m venv \.venv$", install[0]), f"the set-up should start with a venv: {setup}"
    for number, piece in enumerate(install):
        done = bash(same_python(piece, env) if number == 0 else piece, project, env)
        assert done.returncode == 0, f"{piece}\n{done.stdout}{done.stderr}"
        if number == 0:
            see_running_packages(project / ".venv")
            skip_unless_offline_build_works(project / ".venv")

    where = subprocess.run(
        [project / ".venv" / "bin" / "python", "-I", "-c", "import bot; print(bot.__file__)"],
        capture_output=True, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(project), "the new venv must run the copy, not this checkout"

    asked = bash(f".venv/bin/storybot ask {shlex.quote(QUESTION)}", project, chat_env)
    assert asked.returncode == 0, asked.stderr
    assert SHOIGU_QUOTED.search(asked.stdout), asked.stdout

    chatted = bash(console, project, chat_env, stdin=f"{QUESTION}\n/quit\n")
    assert chatted.returncode == 0, chatted.stderr
    assert SHOIGU_QUOTED.search(chatted.stdout), chatted.stdout
    assert "Traceback" not in asked.stderr + chatted.stderr


def storybot_commands(text: str) -> list[list[str]]:
    """Each command in the text's code blocks and inline code that runs storybot, split into words."""
    pieces: list[str] = []
    for language, body in fenced_blocks(text):
        lines = body.replace("\\\n", " ").splitlines()
        if language in ("sh", "bash", "shell", ""):
            pieces += lines
        else:  # a transcript: only what follows the prompt was typed
            pieces += [line.removeprefix("$ ") for line in lines if line.startswith("$ ")]
    prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    pieces += re.findall(r"`([^`\n]+)`", prose)
    commands = []
    for piece in pieces:
        for part in re.split(r"&&|\|\||[|;]", piece.split(" #")[0]):
            if "storybot" not in part:
                continue
            try:
                words = shlex.split(part)
            except ValueError:  # an unbalanced quote in prose
                words = part.split()
            while words and re.match(r"^[A-Za-z_]\w*=", words[0]):  # VAR=value storybot ...
                words.pop(0)
            if words and words[0] in ("storybot", ".venv/bin/storybot"):
                commands.append(words)
    return commands


def test_readme_commands_name_real_subcommands() -> None:
    _, tests = two_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines(), "the README's test command is what .ci/run runs"

    helped = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert helped.returncode == 0, helped.stderr
    shown = helped.stdout
    subcommands = set(re.findall(r"^ {4}([a-z][\w-]*)\s", shown, flags=re.MULTILINE))
    options = set(re.findall(r"(--?[a-z][\w-]*)", shown.split("options:", 1)[-1]))
    assert {"ask", "console", "run"} <= subcommands, shown

    text = README.read_text(encoding="utf-8")
    setup_block = text.index("```sh\n", text.index("\n## Two commands\n"))
    later = text[text.index("```", setup_block + len("```sh\n")) + len("```") :]
    commands = storybot_commands(later)
    assert commands, "the README shows storybot commands after the set-up"
    for words in commands:
        if len(words) == 1 or words[1].isupper():  # `storybot`, `storybot COMMAND`: placeholders
            continue
        assert words[1] in subcommands | options, f"README runs `{shlex.join(words)}`: no such subcommand"
