"""A job's process is started shortly before its instant and held at its gate."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from scoottest import Scoot, wait_for

from scoot.loop import ARM_SEC
from scoot.procs import pid_alive

from .helpers import all_sessions, events, job


def held_folders(home_sessions: Path) -> list[Path]:
    """Session folders of runs started but not released (no session.json yet)."""
    if not home_sessions.exists():
        return []
    return [f for f in home_sessions.iterdir() if not (f / "session.json").exists()]


def gate_pids() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"scoot-gate" in argv:
                pids.append(int(proc.name))
    return pids


def test_a_held_run_starts_at_its_instant(scoot: Scoot) -> None:
    at = round(time.time() + 2.5, 3)
    scoot.write_config(job("soon", "echo started", f"at_unix = {at}"), poll_ms=10_000)
    loop = scoot.popen("schedule", "run")
    try:
        [s] = wait_for(lambda: all_sessions(scoot.home), timeout=15)
    finally:
        loop.send_signal(signal.SIGTERM)
        loop.wait(timeout=30)
    assert s["scheduled_for"].startswith(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)))
    [start] = events(scoot.home, "run_start")
    # The goal was let go at its instant, not a poll (10 s) later.
    assert 0 <= start["late_ms"] < 500
    wait_for(lambda: all_sessions(scoot.home)[0]["status"] == "ok", timeout=10)


def test_a_stop_before_the_instant_gives_the_held_run_up(scoot: Scoot) -> None:
    at = time.time() + 1.0 + ARM_SEC
    scoot.write_config(job("later", "echo ran", f"at_unix = {at}"), poll_ms=10_000)
    loop = scoot.popen("schedule", "run")
    held = wait_for(lambda: held_folders(scoot.home.sessions), timeout=10)
    gates = wait_for(gate_pids, timeout=10)
    loop.send_signal(signal.SIGTERM)
    assert loop.wait(timeout=30) == 0
    assert time.time() < at + 0.5, "the stop did not wait for the instant"
    assert all(not f.exists() for f in held), "a run that never started leaves no session"
    assert all_sessions(scoot.home) == []
    assert events(scoot.home, "run_start") == []
    wait_for(lambda: not any(pid_alive(p) for p in gates), timeout=5)
    # Not fired: the schedule still has it to do.
    state = json.loads(scoot.home.schedule_json.read_text())
    assert state["jobs"]["later"]["fired"] is False


def test_a_held_run_never_starts_once_its_scheduler_is_gone(scoot: Scoot, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    at = time.time() + 1.0 + ARM_SEC
    scoot.write_config(job("later", f"touch {marker}", f"at_unix = {at}"), poll_ms=10_000)
    loop = scoot.popen("schedule", "run")
    gates = wait_for(gate_pids, timeout=10)
    loop.send_signal(signal.SIGKILL)
    loop.wait(timeout=10)
    wait_for(lambda: not any(pid_alive(p) for p in gates), timeout=5)
    time.sleep(max(0.0, at + 0.3 - time.time()))  # past the instant: nothing may run
    assert not marker.exists()
