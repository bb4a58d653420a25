"""The real daemon speaking sd_notify to a datagram socket of the test's own."""

from __future__ import annotations

import itertools
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from daemon_helpers import state

from scoot.home import RuntimeHome

if TYPE_CHECKING:
    from scoottest import Scoot

JOB = '[[schedule.jobs]]\nid = "beat"\ngoal = "true"\nevery_sec = 3600\nmode = "unrestricted"\n'

Message = tuple[float, str]  # (monotonic arrival, datagram text)


class Listener:
    def __init__(self, sock: socket.socket, address: str) -> None:
        self.sock = sock
        self.address = address
        self.seen: list[Message] = []

    def until(self, done: Callable[[list[Message]], bool], timeout: float = 15) -> list[Message]:
        """Receive until `done(all messages so far)`; fail past `timeout`."""
        deadline = time.monotonic() + timeout
        while not done(self.seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such message within {timeout}s; got {self.seen}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            self.seen.append((time.monotonic(), data.decode("utf-8")))
        return self.seen

    def during(self, seconds: float) -> list[Message]:
        """Receive whatever comes for `seconds`."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                break
            self.seen.append((time.monotonic(), data.decode("utf-8")))
        return self.seen


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    yield Listener(sock, path)
    sock.close()


@pytest.fixture
def daemon(scoot: Scoot) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
        p = scoot.popen("daemon", "run", *args, env=env)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate()


def has(text: str) -> Callable[[list[Message]], bool]:
    return lambda seen: any(text in m for _, m in seen)


def test_ready_once_the_lock_is_held_then_status_and_stopping(
    scoot: Scoot, home: RuntimeHome, listener: Listener,
    daemon: Callable[..., subprocess.Popen[str]],
) -> None:
    scoot.write_config(JOB)
    p = daemon({"NOTIFY_SOCKET": listener.address})
    listener.until(has("READY=1"))
    first = listener.seen[0][1]
    assert first.startswith("READY=1\nSTATUS=1 job; next beat ")
    # By READY, the daemon holds the home and says so in its records.
    doc = state(home)
    assert (doc["status"], doc["pid"]) == ("running", p.pid)
    assert home.daemon_pid.exists()

    # One STATUS= line per cycle (poll_ms is 200 here).
    listener.until(lambda seen: sum(m.startswith("STATUS=1 job; next beat ") for _, m in seen) >= 3,
                   timeout=5)

    p.send_signal(signal.SIGHUP)
    listener.until(lambda seen: sum("READY=1" in m for _, m in seen) >= 2)
    reload_msgs = [m for _, m in listener.seen[1:]]
    reloading = next(m for m in reload_msgs if m.startswith("RELOADING=1"))
    lines = reloading.split("\n")
    assert lines[0] == "RELOADING=1" and lines[1].startswith("MONOTONIC_USEC=")
    usec = int(lines[1].split("=", 1)[1])
    assert abs(usec - time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000) < 30_000_000
    assert reload_msgs.index(reloading) < max(
        i for i, m in enumerate(reload_msgs) if m.startswith("READY=1"))

    p.terminate()
    assert p.wait(timeout=10) == 0
    listener.until(has("STOPPING=1"), timeout=2)
    assert listener.seen[-1][1] == "STOPPING=1"
    assert "WATCHDOG=1" not in "".join(m for _, m in listener.seen)  # no WATCHDOG_USEC


def test_abstract_notify_socket(scoot: Scoot, daemon: Callable[..., subprocess.Popen[str]]) -> None:
    name = f"scoot-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    try:
        scoot.write_config(JOB)
        daemon({"NOTIFY_SOCKET": "@" + name})
        Listener(sock, "@" + name).until(has("READY=1"))
    finally:
        sock.close()


def test_watchdog_pings_keep_pace_despite_a_long_poll(
    scoot: Scoot, listener: Listener, daemon: Callable[..., subprocess.Popen[str]],
) -> None:
    # poll_ms is 10 s: without the watchdog's bound on the sleep, no ping would come.
    scoot.write_config(JOB, poll_ms=10_000)
    p = daemon({"NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "600000"})
    listener.until(has("READY=1"))
    start = len(listener.seen)
    listener.during(1.5)
    pings = [t for t, m in listener.seen[start:] if m == "WATCHDOG=1"]
    assert len(pings) >= 4, listener.seen
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    # systemd would kill us past 0.6 s; the loop aims for half of that.
    assert max(gaps) < 0.6, gaps
    assert p.poll() is None


def test_watchdog_pid_of_another_process_means_no_pings(
    scoot: Scoot, listener: Listener, daemon: Callable[..., subprocess.Popen[str]],
) -> None:
    scoot.write_config(JOB, poll_ms=10_000)
    daemon({"NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "400000", "WATCHDOG_PID": "1"})
    listener.until(has("READY=1"))
    listener.during(1.0)  # long enough for 5 pings, were the watchdog on
    assert [m for _, m in listener.seen if "WATCHDOG" in m] == []


def test_no_notify_socket_runs_as_a_simple_service(scoot: Scoot, home: RuntimeHome) -> None:
    # Homebrew runs the daemon as Type=simple: no NOTIFY_SOCKET, watchdog variables ignored.
    scoot.write_config(JOB)
    r = scoot("daemon", "run", "--ticks", "2", env={"WATCHDOG_USEC": "1000"})
    assert r.returncode == 0, r.stderr
    assert state(home)["stop_reason"] == "ticks"
