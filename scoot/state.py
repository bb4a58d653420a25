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
from scoot.home import FILE_MODE, RuntimeHome

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
    # Number of the last firing cycle; journal lines above it are not in schedule.json.
    fire_seq: int = 0
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
    seq = raw.get("fire_seq")
    return ScheduleState(last_cycle=float(last) if last is not None else None,
                         fire_seq=seq if isinstance(seq, int) else 0, jobs=jobs)


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
        "fire_seq": state.fire_seq,
        # vars(), not dataclasses.asdict: every field is a plain value, and asdict's
        # recursive deep copy made this 20x slower with 10,000 jobs (bench/cycle_cost.py).
        "jobs": {job_id: vars(js) for job_id, js in state.jobs.items()},
    }
    if not vouch:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(home.wake_file)
    write_atomic(home.schedule_json, json.dumps(doc, separators=(",", ":")) + "\n", sync=sync)
    trim_fires(home)  # schedule.json now holds every fire the journal had
    if vouch:
        write_wake(home, next_due)


# --- the fire journal ------------------------------------------------------------------
# A cycle appends one line per fire before it starts the runs, and the next save of
# schedule.json clears it. Should the scheduler die in between, the next one replays
# the lines, so a fire is never repeated (an at_unix job fires at most once, ever).
# An append costs microseconds where rewriting schedule.json costs milliseconds, which
# every due job would otherwise wait for (SPEC §13: job start within 1 ms p50).


def append_fires(home: RuntimeHome, seq: int, fires: list[tuple[str, float]]) -> None:
    """Journal the fires of firing cycle number `seq`."""
    lines = "".join(f"{seq} {job_id} {at!r}\n" for job_id, at in fires).encode()
    fd = os.open(home.fire_journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                 FILE_MODE)
    try:
        os.write(fd, lines)  # one write: a crash leaves whole lines or a torn last one
    finally:
        os.close(fd)


def read_fires(home: RuntimeHome, after_seq: int) -> list[tuple[int, str, float]]:
    """Journaled fires of cycles after `after_seq`, oldest first; torn lines skipped."""
    try:
        data = home.fire_journal.read_bytes()
    except FileNotFoundError:
        return []
    fires = []
    for line in data.decode(errors="replace").splitlines():
        try:
            seq, job_id, at = line.split()
            if int(seq) > after_seq:
                fires.append((int(seq), job_id, float(at)))
        except ValueError:
            continue
    return fires


JOURNAL_KEEP_BYTES = 65536


def trim_fires(home: RuntimeHome) -> None:
    """Empty the journal once it has grown; called after schedule.json was saved.

    Lines of cycles schedule.json already holds (up to its `fire_seq`) are skipped
    on replay, so the journal need not be emptied at every save; and appending to a
    file that keeps its blocks is several times cheaper than writing to one just
    truncated: that append happens before runs start. Emptied, never removed:
    creating the file again is a journaled metadata update as well.
    """
    with contextlib.suppress(FileNotFoundError):
        if os.stat(home.fire_journal).st_size > JOURNAL_KEEP_BYTES:
            os.truncate(home.fire_journal, 0)


def write_wake(home: RuntimeHome, next_due: float | None) -> None:
    write_atomic(home.wake_file, wake_line(str(home.root), next_due))


def read_wake(home: RuntimeHome) -> float | None:
    """See scoot.fasttick.read_wake."""
    return fasttick.read_wake(str(home.root))
