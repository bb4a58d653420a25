"""`daemon status` and `daemon stop` on fabricated records: stale, reused and live pids."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from daemon_helpers import dead_pid, fabricate, started_at_of

from scoot.home import RuntimeHome

if TYPE_CHECKING:
    from scoottest import Scoot


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """An unrelated live process whose pid a record can name."""
    p = subprocess.Popen(["sleep", "300"])
    yield p
    p.kill()
    p.wait()


def test_status_without_any_state_exits_4(scoot: Scoot) -> None:
    r = scoot("daemon", "status")
    assert r.returncode == 4
    assert r.stdout.strip() == "no daemon state recorded"
    r = scoot("daemon", "status", "--json")
    assert r.returncode == 4
    assert json.loads(r.stdout)["verdict"] == "none"


def test_stale_record_of_a_dead_pid(scoot: Scoot, home: RuntimeHome) -> None:
    pid = dead_pid()
    fabricate(home, pid, "2026-01-01T00:00:00Z")
    r = scoot("daemon", "status")
    assert r.returncode == 3
    assert r.stdout.strip() == f"running (stale: pid {pid} is gone)"
    doc = json.loads(scoot("daemon", "status", "--json").stdout)
    assert doc["alive"] is False and doc["verdict"] == "stale" and doc["pid"] == pid

    r = scoot("daemon", "stop")
    assert r.returncode == 0, r.stderr
    assert f"no daemon is running (pid {pid} is gone)" in r.stdout
    assert f"removed stale pid file {home.daemon_pid} (pid {pid})" in r.stdout
    assert not home.daemon_pid.exists()
    # The record itself is history: left for the next start to recover from.
    assert json.loads(home.daemon_json.read_text())["status"] == "running"


def test_reused_pid_is_never_signalled(
    scoot: Scoot, home: RuntimeHome, sleeper: subprocess.Popen[bytes]
) -> None:
    # The record names the sleeper's pid, but a start time an hour before it began.
    fabricate(home, sleeper.pid, "2020-01-01T00:00:00Z")
    r = scoot("daemon", "status")
    assert r.returncode == 3
    assert r.stdout.strip() == f"running (stale: pid {sleeper.pid} is gone)"

    r = scoot("daemon", "stop", "--timeout", "2")
    assert r.returncode == 0, r.stderr
    assert f"pid {sleeper.pid} now belongs to another process" in r.stdout
    assert sleeper.poll() is None, "stop signalled an unrelated process"
    assert not home.daemon_pid.exists()


def test_stop_needs_the_pid_file_to_agree(
    scoot: Scoot, home: RuntimeHome, sleeper: subprocess.Popen[bytes]
) -> None:
    fabricate(home, sleeper.pid, started_at_of(sleeper.pid), pid_file=None)
    assert scoot("daemon", "status").returncode == 0
    r = scoot("daemon", "stop", "--timeout", "2")
    assert r.returncode == 0
    assert "state/daemon.pid is missing" in r.stdout
    assert sleeper.poll() is None


def test_stopped_record(scoot: Scoot, home: RuntimeHome) -> None:
    fabricate(home, 4242, "2026-01-01T00:00:00Z", status="stopped", pid_file=None)
    r = scoot("daemon", "status")
    assert r.returncode == 3
    assert r.stdout.startswith("stopped (")
    r = scoot("daemon", "stop")
    assert (r.returncode, r.stdout.strip()) == (0, "no daemon is running (state says stopped)")


def test_stop_signals_a_verified_process_and_reports_an_unrecorded_end(
    scoot: Scoot, home: RuntimeHome, sleeper: subprocess.Popen[bytes]
) -> None:
    # Pid and start time match: stop takes it for the daemon and sends SIGTERM. A
    # `sleep` does not write `stopped`, so stop says the daemon ended uncleanly.
    fabricate(home, sleeper.pid, started_at_of(sleeper.pid))
    r = scoot("daemon", "status")
    assert r.returncode == 0
    assert r.stdout.startswith(f"running (pid={sleeper.pid} ")
    r = scoot("daemon", "stop", "--timeout", "10")
    assert sleeper.wait(timeout=10) == -signal.SIGTERM
    assert r.returncode == 1
    assert "ended without recording its stop" in r.stderr


def test_stop_past_its_timeout_exits_1(scoot: Scoot, home: RuntimeHome) -> None:
    stubborn = subprocess.Popen(
        [sys.executable, "-c",
         "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ok', flush=True)\n"
         "time.sleep(300)"],
        stdout=subprocess.PIPE,
    )
    try:
        assert stubborn.stdout is not None and stubborn.stdout.readline() == b"ok\n"
        fabricate(home, stubborn.pid, started_at_of(stubborn.pid))
        r = scoot("daemon", "stop", "--timeout", "0.5")
        assert r.returncode == 1
        assert r.stderr.strip() == (
            f"scoot: daemon (pid={stubborn.pid}) did not stop within 0.5s; it is still running"
        )
        assert stubborn.poll() is None
    finally:
        stubborn.kill()
        stubborn.wait()


def test_unreadable_state_is_one_line_exit_1(scoot: Scoot, home: RuntimeHome) -> None:
    home.daemon_json.write_text("{not json")
    r = scoot("daemon", "status")
    assert r.returncode == 1
    assert r.stderr.startswith(f"scoot: cannot read {home.daemon_json}: ")
    assert "Traceback" not in r.stderr
