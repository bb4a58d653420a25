"""Shared by the daemon tests: fabricated records, a started daemon, audit reading."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import psutil

from scoot.audit import read_events
from scoot.home import RuntimeHome
from scoot.timeutil import iso_utc

KEYS = {
    "status", "pid", "started_at", "stopped_at", "stop_reason", "job_count", "poll_ms",
    "home", "version", "ticks", "last_tick_at",
}
REFUSAL_TAIL = "Run `scoot daemon stop` first."

EVERY_JOB = '[[schedule.jobs]]\nid = "tick"\ngoal = "true"\nevery_sec = 3600\n'


def state(home: RuntimeHome) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(home.daemon_json.read_text())
    return doc


def events(home: RuntimeHome, name: str) -> list[dict[str, Any]]:
    return [e for e in read_events(home.audit_log) if e.get("event") == name]


def fabricate(home: RuntimeHome, pid: int, started_at: str, *, status: str = "running",
              pid_file: int | None = -1) -> None:
    """A daemon.json (and daemon.pid) as a daemon with `pid` would have left them."""
    home.state.mkdir(exist_ok=True)
    doc = {
        "status": status, "pid": pid, "started_at": started_at, "stopped_at": None,
        "stop_reason": None, "job_count": 1, "poll_ms": 200, "home": str(home.root),
        "version": "0.1.0", "ticks": 3, "last_tick_at": started_at,
    }
    home.daemon_json.write_text(json.dumps(doc))
    if pid_file is not None:
        home.daemon_pid.write_text(f"{pid if pid_file == -1 else pid_file}\n")


def started_at_of(pid: int) -> str:
    return iso_utc(psutil.Process(pid).create_time())


def dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def alive(p: subprocess.Popen[Any]) -> bool:
    return p.poll() is None
