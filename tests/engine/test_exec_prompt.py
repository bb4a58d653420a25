"""`scoot -e` with guarded mode on a real terminal (a pty): the prompt decides the mode."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pytest
from scoottest import SCOOT, Scoot, scoot_env

from scoot.modes import PROMPT

from .helpers import all_sessions


def run_on_terminal(scoot: Scoot, args: list[str], answer: str | None) -> tuple[int, str]:
    """Run scoot with stdin/stdout/stderr on a pty; type `answer` when the prompt shows."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(SCOOT), *args], stdin=slave, stdout=slave, stderr=slave,
                            env=scoot_env(scoot.home), start_new_session=True)
    os.close(slave)
    seen = b""
    answered = answer is None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the pty closes when the last writer exits
                break
            if not chunk:
                break
            seen += chunk
        if not answered and PROMPT.encode() in seen:
            os.write(master, answer.encode() + b"\r")  # type: ignore[union-attr]
            answered = True
        if proc.poll() is not None and not ready:
            break
    os.close(master)
    return proc.wait(timeout=30), seen.decode(errors="replace")


@pytest.mark.parametrize(("answer", "effective"), [("y", "unrestricted"), ("n", "readonly"),
                                                    ("", "readonly")])
def test_guarded_goal_asks_and_the_answer_sets_the_mode(scoot: Scoot, answer: str, effective: str) -> None:
    scoot.write_config("", extra='[policy]\nsandbox = "best-effort"\n')
    code, screen = run_on_terminal(scoot, ["-e", "echo ran-$SCOOT_MODE", "--mode", "guarded"], answer)
    assert PROMPT in screen
    assert code == 0, screen
    assert f"ran-{effective}" in screen
    (session,) = all_sessions(scoot.home)
    assert (session["requested_mode"], session["effective_mode"]) == ("guarded", effective)


def test_without_a_terminal_guarded_is_readonly_and_nothing_is_asked(scoot: Scoot) -> None:
    scoot.write_config("", extra='[policy]\nsandbox = "best-effort"\n')
    r = scoot("-e", "echo ran-$SCOOT_MODE", "--mode", "guarded")
    assert PROMPT not in r.stdout + r.stderr
    assert r.returncode == 0 and "ran-readonly" in r.stdout
