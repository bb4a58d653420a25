"""The persisted schedule: `state/schedule.json` and its small summary `state/wake`.

schedule.json holds the home's last cycle and, per job, what firing depends on
(last fire, whether an at_unix job already fired, the next due instant) plus the
last result. The `wake` file repeats the earliest due instant together with the
stat() identity of config.toml and schedule.json, so a `--ticks 1` run can see
that nothing is due without parsing either file (SPEC §13).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from scoot import fasttick
from scoot.atomic import write_atomic
from scoot.fasttick import wake_line
from scoot.home import RuntimeHome

FORMAT = 1


@dataclass
class JobState:
    trigger: str = ""  # the trigger text it was computed for; a change invalidates next_due
    last_fire: float | None = None
    last_result: str | None = None
    last_session: str | None = None
    fired: bool = False  # at_unix: fired once, never again
    next_due: float | None = None


@dataclass
class ScheduleState:
    last_cycle: float | None = None
    jobs: dict[str, JobState] = field(default_factory=dict)

    def job(self, job_id: str) -> JobState:
        return self.jobs.setdefault(job_id, JobState())


def load_schedule(home: RuntimeHome) -> ScheduleState:
    """The persisted state; a missing or unreadable file starts afresh."""
    try:
        raw: Any = json.loads(home.schedule_json.read_bytes())
    except (FileNotFoundError, ValueError):
        return ScheduleState()
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        return ScheduleState()
    jobs: dict[str, JobState] = {}
    known = set(JobState.__dataclass_fields__)
    for job_id, data in (raw.get("jobs") or {}).items():
        if isinstance(data, dict):
            jobs[job_id] = JobState(**{k: v for k, v in data.items() if k in known})
    last = raw.get("last_cycle")
    return ScheduleState(last_cycle=float(last) if last is not None else None, jobs=jobs)


def save_schedule(
    home: RuntimeHome, state: ScheduleState, next_due: float | None, *, vouch: bool = True,
    sync: bool = True,
) -> None:
    """Write schedule.json, then the wake summary that vouches for it.

    `vouch=False` (runs are in progress) removes the summary instead: should this
    scheduler die now, the next `--ticks 1` must take the full path, which finds and
    ends the runs it orphaned.
    """
    doc = {
        "format": FORMAT,
        "last_cycle": state.last_cycle,
        # vars(), not dataclasses.asdict: every field is a plain value, and asdict's
        # recursive deep copy made this 20x slower with 10,000 jobs (bench/cycle_cost.py).
        "jobs": {job_id: vars(js) for job_id, js in state.jobs.items()},
    }
    if not vouch:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(home.wake_file)
    write_atomic(home.schedule_json, json.dumps(doc, separators=(",", ":")) + "\n", sync=sync)
    if vouch:
        write_wake(home, next_due)


def write_wake(home: RuntimeHome, next_due: float | None) -> None:
    write_atomic(home.wake_file, wake_line(str(home.root), next_due))


def read_wake(home: RuntimeHome) -> float | None:
    """See scoot.fasttick.read_wake."""
    return fasttick.read_wake(str(home.root))
