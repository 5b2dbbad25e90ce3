"""The image's HEALTHCHECK: exit 0 when StoryBot is alive and, in webhook mode, its port answers.

Standard library only, run by the image's own python (slim images have no curl):

1. a `storybot` process (`storybot ...` or `python -m bot ...`) exists and is not a zombie: PID 1 as the
   image runs it, or a child of an init (`docker run --init`);
2. if STORYBOT_WEBHOOK_URL is set (not blank), a TCP connection to the webhook server succeeds: the
   address in STORYBOT_WEBHOOK_LISTEN (a wildcard such as the default 0.0.0.0 means loopback) and
   STORYBOT_WEBHOOK_PORT (default 8443). Long polling listens nowhere, so then (1) is the whole check.

Anything wrong is one line on stdout (Docker keeps it in `docker inspect`) and exit status 1.
"""

import os
import socket
import sys
from pathlib import Path

TIMEOUT = 3.0


def _is_storybot(argv: list[str]) -> bool:
    # The console script runs as "python /usr/local/bin/storybot run" (or "storybot run" after exec).
    names = [os.path.basename(arg) for arg in argv[:2]]
    return "storybot" in names or argv[1:3] == ["-m", "bot"]


def storybot_pid() -> int | None:
    """The lowest pid of a live storybot process, PID 1 first."""
    pids = sorted(int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    for pid in pids:
        try:
            argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
            stat = (Path("/proc") / str(pid) / "stat").read_text()
        except OSError:  # it exited while we looked
            continue
        state = stat.rpartition(")")[2].split()[:1]
        if state != ["Z"] and _is_storybot([arg.decode(errors="replace") for arg in argv if arg]):
            return pid
    return None


def webhook_address() -> tuple[str, int] | None:
    """Where the webhook server should answer, or None in long-polling mode."""
    if not os.environ.get("STORYBOT_WEBHOOK_URL", "").strip():
        return None
    listen = os.environ.get("STORYBOT_WEBHOOK_LISTEN", "").strip() or "0.0.0.0"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(listen, listen)
    return host, int(os.environ.get("STORYBOT_WEBHOOK_PORT", "").strip() or 8443)


def main() -> int:
    pid = storybot_pid()
    if pid is None:
        print("unhealthy: no storybot process is running")
        return 1
    try:
        address = webhook_address()
    except ValueError:
        print("unhealthy: STORYBOT_WEBHOOK_PORT is not a number")
        return 1
    if address is None:
        print(f"healthy: storybot is pid {pid} (long polling)")
        return 0
    host, port = address
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT):
            pass
    except OSError as error:
        print(f"unhealthy: storybot is pid {pid} but {host}:{port} does not answer: {error}")
        return 1
    print(f"healthy: storybot is pid {pid}, webhook server answers on {host}:{port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
