"""What `schedule list` and `schedule next` show: one row per configured job."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from scoot.config import Config, Job
from scoot.modes import UNRESTRICTED, mode_label, scheduled_mode
from scoot.state import JobState, ScheduleState
from scoot.timeutil import iso_utc
from scoot.triggers import refresh, upcoming


@dataclass(frozen=True)
class Row:
    index: int
    id: str
    trigger: str
    requested_mode: str | None
    effective_mode: str | None
    active: bool
    next_fire: float | None
    reason: str | None  # why it is inactive

    @property
    def mode(self) -> str:
        if self.requested_mode is None or self.effective_mode is None:
            return "-"
        label = mode_label(self.requested_mode, self.effective_mode)
        # Unconfined jobs stand out in the listing (SPEC §7).
        return label.upper() if self.effective_mode == UNRESTRICTED else label

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "index": self.index,
            "trigger": self.trigger,
            "requested_mode": self.requested_mode,
            "effective_mode": self.effective_mode,
            "unrestricted": self.effective_mode == UNRESTRICTED,
            "state": "ACTIVE" if self.active else "INACTIVE",
            "next_fire": iso_utc(self.next_fire) if self.next_fire is not None else None,
            "reason": self.reason,
        }


def _job_state(job: Job, state: ScheduleState, now: float) -> JobState:
    # A copy: listing never changes what the scheduler persisted.
    saved = state.jobs.get(job.id)
    js = JobState(**vars(saved)) if saved else JobState()
    refresh(job, js, state.last_cycle, now)
    return js


def rows(config: Config, state: ScheduleState, now: float) -> list[Row]:
    out: list[Row] = []
    for job in config.jobs:
        requested = job.mode
        effective = scheduled_mode(requested)
        js = _job_state(job, state, now)
        reason = None
        next_fire = None
        if not config.schedule_enabled:
            reason = "schedule disabled"
        elif not job.enabled:
            reason = "enabled = false"
        elif job.trigger.kind == "at_unix" and js.fired:
            reason = "at_unix already fired"
        else:
            next_fire = next(upcoming(job, js, state.last_cycle, now), None)
        text = job.trigger.text
        out.append(Row(job.index, job.id, text, requested, effective, reason is None,
                       next_fire, reason))
    for bad in config.invalid:
        out.append(Row(bad.index, bad.label, "-", None, None, False, None,
                       f"invalid: {bad.reason}"))
    return sorted(out, key=lambda r: r.index)


def next_times(
    config: Config, state: ScheduleState, now: float, job_id: str | None, count: int
) -> list[tuple[str, list[float]]]:
    """The next `count` fire times of each active job (or of `job_id` alone)."""
    out = []
    for row in rows(config, state, now):
        if job_id is not None and row.id != job_id:
            continue
        job = config.job(row.id)
        if not row.active or job is None:
            continue
        js = _job_state(job, state, now)
        times = list(itertools.islice(upcoming(job, js, state.last_cycle, now), count))
        out.append((row.id, times))
    return out
