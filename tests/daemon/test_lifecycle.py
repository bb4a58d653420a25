"""`scoot daemon run` end to end: the real binary, real signals, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from daemon_helpers import (
    EVERY_JOB,
    KEYS,
    REFUSAL_TAIL,
    dead_pid,
    events,
    fabricate,
    state,
)
from scoottest import wait_for

from scoot.home import RuntimeHome
from scoot.locks import SchedulerLock
from scoot.timeutil import parse_iso

if TYPE_CHECKING:
    from scoottest import Scoot

# A job that fires every second with no sandbox needed, so reload tests can watch it run.
FAST_JOB = '[[schedule.jobs]]\nid = "beat"\ngoal = "true"\nevery_sec = 1\nmode = "unrestricted"\n'


@pytest.fixture
def daemons(scoot: Scoot) -> Iterator[list[subprocess.Popen[str]]]:
    """Daemons a test starts; any still alive at the end are killed."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate()


def start(scoot: Scoot, daemons: list[subprocess.Popen[str]], *args: str,
          env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    p = scoot.popen("daemon", "run", *args, env=env)
    daemons.append(p)
    return p


def wait_running(home: RuntimeHome, p: subprocess.Popen[str]) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        if p.poll() is not None:
            raise AssertionError(f"daemon exited {p.returncode}: {p.communicate()[1]}")
        try:
            doc = state(home)
        except (FileNotFoundError, ValueError):
            return None
        ok = doc["status"] == "running" and doc["pid"] == p.pid and doc["ticks"] >= 1
        return doc if ok else None

    doc: dict[str, Any] = wait_for(ready, timeout=15)
    return doc


def test_start_status_stop_round_trip(scoot: Scoot, home: RuntimeHome,
                                      daemons: list[subprocess.Popen[str]]) -> None:
    scoot.write_config(EVERY_JOB)
    p = start(scoot, daemons)
    doc = wait_running(home, p)
    assert set(doc) == KEYS
    assert doc["job_count"] == 1 and doc["poll_ms"] == 200
    assert doc["home"] == str(home.root) and doc["version"] == "0.1.0"
    assert doc["stopped_at"] is None and doc["stop_reason"] is None
    for key in ("started_at", "last_tick_at"):
        assert doc[key].endswith("Z"), doc[key]
        parse_iso(doc[key])
    assert home.daemon_pid.read_text() == f"{p.pid}\n"

    r = scoot("daemon", "status")
    assert r.returncode == 0
    assert r.stdout.startswith(f"running (pid={p.pid} started_at={doc['started_at']} jobs=1 ")
    st = json.loads(scoot("daemon", "status", "--json").stdout)
    assert st["alive"] is True and st["verdict"] == "running"

    r = scoot("daemon", "stop")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == f"daemon stopped (pid={p.pid} stop_reason=SIGTERM)"
    assert p.wait(timeout=10) == 0
    doc = state(home)
    assert set(doc) == KEYS
    assert (doc["status"], doc["stop_reason"]) == ("stopped", "SIGTERM")
    assert doc["stopped_at"].endswith("Z") and parse_iso(doc["stopped_at"]) >= parse_iso(
        doc["started_at"])
    assert not home.daemon_pid.exists()
    assert scoot("daemon", "status").returncode == 3
    assert [e["pid"] for e in events(home, "daemon_start")] == [p.pid]
    (stop_event,) = events(home, "daemon_stop")
    assert stop_event["reason"] == "SIGTERM"
    # Nothing left for the next start to recover from.
    r = scoot("daemon", "run", "--ticks", "1")
    assert r.returncode == 0 and "did not stop cleanly" not in r.stderr


@pytest.mark.parametrize(("signum", "reason"), [(signal.SIGTERM, "SIGTERM"),
                                                (signal.SIGINT, "SIGINT")])
def test_stop_reason_of_a_signal(scoot: Scoot, home: RuntimeHome,
                                 daemons: list[subprocess.Popen[str]],
                                 signum: int, reason: str) -> None:
    scoot.write_config(EVERY_JOB)
    p = start(scoot, daemons)
    wait_running(home, p)
    p.send_signal(signum)
    assert p.wait(timeout=10) == 0
    doc = state(home)
    assert (doc["status"], doc["stop_reason"]) == ("stopped", reason)
    assert not home.daemon_pid.exists()
    assert events(home, "daemon_stop")[-1]["reason"] == reason


def test_stop_reason_ticks(scoot: Scoot, home: RuntimeHome) -> None:
    scoot.write_config(EVERY_JOB)
    r = scoot("daemon", "run", "--ticks", "3")
    assert r.returncode == 0, r.stderr
    doc = state(home)
    assert (doc["status"], doc["stop_reason"], doc["ticks"]) == ("stopped", "ticks", 3)
    assert not home.daemon_pid.exists()


def test_schedule_disabled_exits_78(scoot: Scoot, home: RuntimeHome) -> None:
    scoot.write_config(EVERY_JOB, enabled=False)
    r = scoot("daemon", "run", "--ticks", "1")
    assert r.returncode == 78
    assert r.stderr == (
        f"[scoot] schedule is disabled: set [schedule] enabled = true in {home.config}\n"
    )
    assert not home.daemon_json.exists()


def test_second_daemon_is_refused_with_the_two_lines(
    scoot: Scoot, home: RuntimeHome, daemons: list[subprocess.Popen[str]]
) -> None:
    scoot.write_config(EVERY_JOB)
    p = start(scoot, daemons)
    doc = wait_running(home, p)
    r = scoot("daemon", "run")
    assert r.returncode == 75
    assert r.stderr.splitlines() == [
        "[scoot] refusing to start: detected daemon already running "
        f"(pid={p.pid} started_at={doc['started_at']}).",
        REFUSAL_TAIL,
    ]
    (refused,) = events(home, "daemon_refused")
    assert refused["holder_pid"] == p.pid and refused["holder_kind"] == "daemon"
    # The refused start left the running daemon's records alone.
    assert state(home)["pid"] == p.pid and home.daemon_pid.read_text() == f"{p.pid}\n"
    assert p.poll() is None


def test_six_daemons_at_once_exactly_one_runs(
    scoot: Scoot, home: RuntimeHome, daemons: list[subprocess.Popen[str]]
) -> None:
    scoot.write_config(EVERY_JOB)
    procs = [start(scoot, daemons) for _ in range(6)]

    def five_refused() -> list[subprocess.Popen[str]] | None:
        done = [p for p in procs if p.poll() is not None]
        return done if len(done) >= 5 else None

    losers = wait_for(five_refused, timeout=30)
    assert len(losers) == 5
    (winner,) = [p for p in procs if p not in losers]
    doc = wait_running(home, winner)
    for p in losers:
        _, err = p.communicate()
        assert p.returncode == 75, err
        assert err.splitlines() == [
            "[scoot] refusing to start: detected daemon already running "
            f"(pid={winner.pid} started_at={doc['started_at']}).",
            REFUSAL_TAIL,
        ]
    assert len(events(home, "daemon_start")) == 1
    assert len(events(home, "daemon_refused")) == 5
    winner.terminate()
    assert winner.wait(timeout=10) == 0


def test_a_schedule_loop_holding_the_home_is_named(
    scoot: Scoot, home: RuntimeHome
) -> None:
    scoot.write_config(EVERY_JOB)
    lock = SchedulerLock(home.scheduler_lock)
    lock.acquire("schedule", "2026-01-01T00:00:00Z")
    try:
        r = scoot("daemon", "run", "--ticks", "1")
    finally:
        lock.release()
    assert r.returncode == 75
    assert r.stderr == (
        "[scoot] refusing to start: a `scoot schedule run` loop "
        f"(pid={os.getpid()} started_at=2026-01-01T00:00:00Z) holds this home; stop it first.\n"
    )
    assert events(home, "daemon_refused")[0]["holder_kind"] == "schedule"
    assert not home.daemon_json.exists()


def write_orphan(home: RuntimeHome, owner: int) -> str:
    sid = "20260101T000000Z-tick-abcdef"
    folder = home.session_dir(sid)
    (folder / "scratch").mkdir(parents=True)
    (folder / "session.json").write_text(json.dumps({
        "id": sid, "job": "tick", "goal": "true", "trigger": "every_sec",
        "scheduled_for": "2026-01-01T00:00:00Z", "started_at": "2026-01-01T00:00:00.000Z",
        "finished_at": None, "requested_mode": "readonly", "effective_mode": "readonly",
        "sandbox": [], "status": "running", "exit_code": None, "signal": None,
        "pid": owner, "output_bytes": 0, "output_truncated": False, "scheduler_pid": owner,
    }))
    return sid


def test_crash_recovery_from_a_stale_record(scoot: Scoot, home: RuntimeHome) -> None:
    scoot.write_config(EVERY_JOB)
    gone = dead_pid()
    fabricate(home, gone, "2026-01-01T00:00:00Z")
    sid = write_orphan(home, gone)
    r = scoot("daemon", "status")
    assert (r.returncode, r.stdout.strip()) == (3, f"running (stale: pid {gone} is gone)")

    r = scoot("daemon", "run", "--ticks", "1")
    assert r.returncode == 0, r.stderr
    assert (
        f"[scoot] warning: previous daemon (pid={gone} started_at=2026-01-01T00:00:00Z) "
        "did not stop cleanly; recovering"
    ) in r.stderr.splitlines()
    (recovered,) = events(home, "daemon_recovered")
    assert recovered["previous_pid"] == gone and recovered["interrupted"] == [sid]
    session = json.loads((home.session_dir(sid) / "session.json").read_text())
    assert session["status"] == "interrupted"
    doc = state(home)
    assert doc["pid"] != gone and doc["status"] == "stopped" and doc["stop_reason"] == "ticks"
    assert not home.daemon_pid.exists()


def test_kill_9_then_recovery(scoot: Scoot, home: RuntimeHome,
                              daemons: list[subprocess.Popen[str]]) -> None:
    scoot.write_config(EVERY_JOB)
    p = start(scoot, daemons)
    doc = wait_running(home, p)
    p.kill()
    p.wait()
    r = scoot("daemon", "status")
    assert (r.returncode, r.stdout.strip()) == (3, f"running (stale: pid {p.pid} is gone)")
    # The kernel dropped the dead daemon's flock: the pid file left behind blocks nothing.
    assert home.daemon_pid.exists()
    q = start(scoot, daemons)
    wait_running(home, q)
    q.terminate()
    _, err = q.communicate(timeout=10)
    assert q.returncode == 0
    assert (
        f"[scoot] warning: previous daemon (pid={p.pid} started_at={doc['started_at']}) "
        "did not stop cleanly; recovering\n"
    ) in err
    assert events(home, "daemon_recovered")[0]["previous_pid"] == p.pid


def test_recorded_pid_reused_by_an_unrelated_process(scoot: Scoot, home: RuntimeHome) -> None:
    scoot.write_config(EVERY_JOB)
    sleeper = subprocess.Popen(["sleep", "300"])
    try:
        fabricate(home, sleeper.pid, "2020-01-01T00:00:00Z")
        r = scoot("daemon", "stop", "--timeout", "2")
        assert r.returncode == 0
        r = scoot("daemon", "run", "--ticks", "1")
        assert r.returncode == 0, r.stderr
        assert f"previous daemon (pid={sleeper.pid} " in r.stderr
        assert state(home)["pid"] not in (sleeper.pid, None)
        assert scoot("daemon", "stop").returncode == 0
        assert sleeper.poll() is None, "an unrelated process was signalled"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_sighup_reload_keeps_the_old_config_when_the_new_one_is_invalid(
    scoot: Scoot, home: RuntimeHome, daemons: list[subprocess.Popen[str]]
) -> None:
    scoot.write_config(FAST_JOB)
    p = start(scoot, daemons)
    wait_running(home, p)
    home.config.write_text("[schedule\nenabled = true\n")
    p.send_signal(signal.SIGHUP)
    invalid = wait_for(lambda: events(home, "config_invalid"))
    assert "config error" in invalid[0]["reason"]
    # The old job keeps firing after the failed reload.
    seen = len(events(home, "run_start"))
    wait_for(lambda: len(events(home, "run_start")) > seen, timeout=10)
    assert p.poll() is None

    scoot.write_config(FAST_JOB + EVERY_JOB)
    p.send_signal(signal.SIGHUP)
    reloaded = wait_for(lambda: events(home, "config_reloaded"))
    assert reloaded[0]["job_count"] == 2
    wait_for(lambda: state(home)["job_count"] == 2)
    p.terminate()
    _, err = p.communicate(timeout=15)
    assert p.returncode == 0
    assert "config not reloaded, keeping the running one: config error:" in err
    assert state(home)["stop_reason"] == "SIGTERM"


def test_jobs_never_see_the_notify_variables(
    scoot: Scoot, home: RuntimeHome, tmp_path: Path, daemons: list[subprocess.Popen[str]]
) -> None:
    out = tmp_path / "env.txt"
    scoot.write_config(
        f'[[schedule.jobs]]\nid = "env"\ngoal = "env > {out}"\nevery_sec = 3600\n'
        'mode = "unrestricted"\n'
    )
    env = {"NOTIFY_SOCKET": str(tmp_path / "nobody.sock"), "WATCHDOG_USEC": "30000000"}
    p = start(scoot, daemons, "--ticks", "1", env=env)
    assert p.wait(timeout=30) == 0
    text = out.read_text()
    assert "SCOOT_JOB_ID=env" in text
    assert "NOTIFY_SOCKET" not in text and "WATCHDOG_USEC" not in text


def test_an_error_in_the_loop_is_recorded_as_the_stop_reason(
    scoot: Scoot, home: RuntimeHome
) -> None:
    scoot.write_config(EVERY_JOB)
    home.schedule_json.mkdir()  # the loop cannot read its persisted schedule
    r = scoot("daemon", "run", "--ticks", "1")
    assert r.returncode == 1
    assert r.stderr.startswith("scoot: daemon stopped on an error: IsADirectoryError: ")
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
    doc = state(home)
    assert doc["status"] == "stopped"
    assert doc["stop_reason"].startswith("error: IsADirectoryError: ")
    assert not home.daemon_pid.exists()
    (stopped,) = events(home, "daemon_stop")
    assert stopped["reason"] == doc["stop_reason"]
    assert "Traceback" in stopped["traceback"]
    # A clean (if failed) stop: the next start has nothing to recover.
    home.schedule_json.rmdir()
    r = scoot("daemon", "run", "--ticks", "1")
    assert r.returncode == 0 and "did not stop cleanly" not in r.stderr
