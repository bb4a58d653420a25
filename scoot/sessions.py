"""Sessions: one folder per run under `state/sessions/<id>/` (SPEC §6).

`session.json` is written with status `running` when the run starts and replaced
atomically when it ends, so a reader sees one of the two, never a half-written file.
Besides the keys of SPEC §6 it records `scheduler_pid`, the process that supervises
the run: a `running` session whose supervisor is gone was orphaned by a crash and is
marked `interrupted` by the next scheduler of the home.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scoot import procs
from scoot.atomic import read_json, write_json_atomic
from scoot.audit import AuditLog
from scoot.home import DIR_MODE, RuntimeHome
from scoot.timeutil import compact_utc, iso_utc

STATUSES = ("running", "ok", "failed", "timeout", "interrupted", "refused")
TRIGGER_KINDS = ("every_sec", "at_unix", "cron", "exec", "manual")

# Every key SPEC §6 names, in the order session.json shows them.
KEYS = (
    "id", "job", "goal", "trigger", "scheduled_for", "started_at", "finished_at",
    "requested_mode", "effective_mode", "sandbox", "status", "exit_code", "signal", "pid",
    "output_bytes", "output_truncated",
)


def new_id(now: float, job_id: str | None) -> str:
    """`20261201T000000Z-disk-check-a1b2c3` (the random tail keeps ids unique)."""
    # os.urandom, not secrets: `secrets` pulls in hashlib and OpenSSL, ~5 MB of a
    # daemon's resident memory for three random bytes.
    return f"{compact_utc(now)}-{job_id or 'exec'}-{os.urandom(3).hex()}"


def new_record(
    session_id: str,
    *,
    job: str | None,
    goal: str,
    trigger: str,
    scheduled_for: float | None,
    started_at: float,
    requested_mode: str,
    effective_mode: str,
) -> dict[str, Any]:
    """A `running` session record with every key present."""
    return {
        "id": session_id,
        "job": job,
        "goal": goal,
        "trigger": trigger,
        "scheduled_for": iso_utc(scheduled_for, ms=True) if scheduled_for is not None else None,
        "started_at": iso_utc(started_at, ms=True),
        "finished_at": None,
        "requested_mode": requested_mode,
        "effective_mode": effective_mode,
        "sandbox": [],
        "status": "running",
        "exit_code": None,
        "signal": None,
        "pid": None,
        "output_bytes": 0,
        "output_truncated": False,
        # Beyond SPEC §6: who supervises the run (orphan detection), and the sandbox's
        # own account of what it could not apply / why it refused.
        "scheduler_pid": os.getpid(),
        "sandbox_missing": [],
        "landlock_abi": None,
        "reason": None,
    }


def create_folder(home: RuntimeHome, session_id: str) -> Path:
    """The session folder with a new, empty `scratch/`; both 0700."""
    home.sessions.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    folder = home.session_dir(session_id)
    folder.mkdir(mode=DIR_MODE)
    (folder / "scratch").mkdir(mode=DIR_MODE)
    return folder


def write(home: RuntimeHome, record: dict[str, Any]) -> None:
    write_json_atomic(home.session_dir(record["id"]) / "session.json", record)


def read(home: RuntimeHome, session_id: str) -> dict[str, Any] | None:
    if "/" in session_id or session_id in ("", ".", ".."):
        return None
    try:
        data = read_json(home.session_dir(session_id) / "session.json")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _all(home: RuntimeHome) -> Iterator[dict[str, Any]]:
    try:
        names = os.listdir(home.sessions)
    except FileNotFoundError:
        return
    for name in names:
        record = read(home, name)
        if record is not None:
            yield record


def list_sessions(
    home: RuntimeHome, *, job: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Sessions newest first (by start time, then id), optionally of one job."""
    records = [r for r in _all(home) if job is None or r.get("job") == job]
    records.sort(key=lambda r: (str(r.get("started_at") or ""), str(r.get("id"))), reverse=True)
    return records if limit is None else records[:limit]


def mark_orphaned(home: RuntimeHome, audit: AuditLog | None = None) -> list[str]:
    """Mark `running` sessions whose supervising process is gone `interrupted`.

    A run can outlive its scheduler (SIGKILL, OOM): it has its own process group.
    Left alone it would run on with no supervisor, no timeout and no overlap lock,
    so when its recorded pid is still that very process, its group is ended first.

    Returns their ids. Each gets a `run_end` audit event with `"orphaned": true`
    when `audit` is given, so the log accounts for every run_start.
    """
    marked: list[str] = []
    now = time.time()
    for record in _all(home):
        if record.get("status") != "running":
            continue
        owner = record.get("scheduler_pid")
        if isinstance(owner, int) and procs.pid_alive(owner):
            continue
        ended = _end_orphan(record)
        record["status"] = "interrupted"
        record["finished_at"] = iso_utc(now, ms=True)
        record["reason"] = "its scheduler ended without finishing it" + (
            "; its processes were ended" if ended else "")
        write(home, record)
        marked.append(record["id"])
        if audit is not None:
            audit.append(
                "run_end", job=record.get("job"), session=record["id"], status="interrupted",
                exit_code=None, signal=None, duration=None, orphaned=True, ended=ended,
            )
    return marked


ORPHAN_GRACE_SEC = 2.0


def _end_orphan(record: dict[str, Any]) -> bool:
    """SIGTERM, then SIGKILL, the process group of an orphaned run that still runs."""
    pid = record.get("pid")
    if not isinstance(pid, int) or not procs.is_same_process(pid, record.get("started_at")):
        return False
    for sig, wait in ((signal.SIGTERM, ORPHAN_GRACE_SEC), (signal.SIGKILL, 0.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and procs.pid_alive(pid):
            time.sleep(0.02)
    return True
