"""scoot.notify against real AF_UNIX datagram sockets (path and abstract)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scoot.notify import Notifier, socket_address, watchdog_interval


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify.sock")
    sock.bind(path)
    sock.settimeout(2)
    yield sock, path
    sock.close()


def recv(sock: socket.socket) -> str:
    return sock.recv(4096).decode("utf-8")


def test_no_socket_is_a_silent_no_op() -> None:
    n = Notifier.from_environ({})
    assert not n.enabled
    assert n.send("READY=1") is False
    assert n.ready() is False
    assert n.watchdog() is False
    assert n.sleep_bound is None


def test_path_socket_receives_ready_and_utf8_status(path_socket: tuple[socket.socket, str]) -> None:
    sock, path = path_socket
    n = Notifier.from_environ({"NOTIFY_SOCKET": path})
    assert n.ready("3 jobs ✓") is True
    assert recv(sock) == "READY=1\nSTATUS=3 jobs ✓"
    assert n.status("next backup at 12:05:00Z ✓") is True
    raw = sock.recv(4096)
    assert raw == "STATUS=next backup at 12:05:00Z ✓".encode()
    n.close()


def test_abstract_socket() -> None:
    name = f"scoot-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(2)
    try:
        n = Notifier.from_environ({"NOTIFY_SOCKET": "@" + name})
        assert n.stopping() is True
        assert recv(sock) == "STOPPING=1"
    finally:
        sock.close()


def test_reloading_carries_monotonic_usec_in_the_same_datagram(
    path_socket: tuple[socket.socket, str],
) -> None:
    sock, path = path_socket
    n = Notifier.from_environ({"NOTIFY_SOCKET": path})
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert n.reloading() is True
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    lines = recv(sock).split("\n")
    assert lines[0] == "RELOADING=1"
    assert lines[1].startswith("MONOTONIC_USEC=")
    assert before <= int(lines[1].split("=", 1)[1]) <= after
    assert len(lines) == 2


def test_send_failure_is_reported_not_raised(tmp_path: Path) -> None:
    n = Notifier.from_environ({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert n.enabled
    assert n.ready() is False
    assert n.status("x") is False


def test_a_multi_line_field_is_a_programming_error(path_socket: tuple[socket.socket, str]) -> None:
    _, path = path_socket
    n = Notifier.from_environ({"NOTIFY_SOCKET": path})
    with pytest.raises(ValueError):
        n.send("STATUS=a\nREADY=1")
    # status() folds a multi-line text into one line instead.
    assert n.status("a\nb") is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("/run/x.sock", "/run/x.sock"),
        ("@abstract", b"\0abstract"),
        ("vsock:2:1234", None),
        ("relative.sock", None),
    ],
)
def test_socket_address(value: str | None, expected: str | bytes | None) -> None:
    assert socket_address(value) == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "2000000"}, 1.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "{pid}"}, 1.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "nonsense"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_PID": "{pid}"}, None),
    ],
)
def test_watchdog_enablement(env: dict[str, str], expected: float | None) -> None:
    env = {k: v.format(pid=os.getpid()) for k, v in env.items()}
    assert watchdog_interval(env, os.getpid()) == expected


def test_watchdog_needs_a_socket() -> None:
    n = Notifier.from_environ({"WATCHDOG_USEC": "2000000"})
    assert not n.watchdog_enabled
    assert n.watchdog_if_due() is False


def test_watchdog_pacing(path_socket: tuple[socket.socket, str]) -> None:
    sock, path = path_socket
    now = [100.0]
    n = Notifier(socket_address(path), watchdog_interval({"WATCHDOG_USEC": "4000000"}, 0),
                 monotonic=lambda: now[0])
    assert n.watchdog_interval == 2.0
    assert n.sleep_bound == 1.0
    n.ready()
    assert recv(sock) == "READY=1"
    now[0] += 0.9
    assert n.watchdog_if_due() is False
    now[0] += 0.1
    assert n.watchdog_if_due() is True
    assert recv(sock) == "WATCHDOG=1"
    now[0] += 0.5
    assert n.watchdog_if_due() is False


def test_from_environ_unset_removes_the_variables_children_must_not_see(tmp_path: Path) -> None:
    env = {"NOTIFY_SOCKET": str(tmp_path / "s"), "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1",
           "X": "y"}
    n = Notifier.from_environ(env, unset=True)
    assert n.enabled
    assert env == {"X": "y"}
