"""When a job is due (SPEC §5): pure functions of the job, its state and the clock.

Each job carries one persisted `next_due` instant. A job is due at a cycle whose
time has reached it; firing moves it on. Cron windows are `(last_cycle, now]`:
the first instant after the previous cycle is the next due one, so a cycle that
comes late fires once for every instant it passed (`missed` counts them), and a
clock that goes backwards cannot reach an instant twice because `last_cycle` only
moves forward.
"""

from __future__ import annotations

from collections.abc import Iterator

from scoot.config import Job
from scoot.state import JobState

# Counting missed cron instants after a long downtime must stay cheap: past this
# many the count is reported as this many (docs/SCHEDULING.md).
MISSED_COUNT_LIMIT = 10_000
DISABLED = "(disabled)"


def next_due(job: Job, js: JobState, last_cycle: float | None, now: float) -> float | None:
    """The instant at which `job` next becomes due, or None when it never will."""
    if not job.enabled:
        return None
    trigger = job.trigger
    if trigger.kind == "every_sec":
        # Never fired: due at the very next cycle.
        return 0.0 if js.last_fire is None else js.last_fire + trigger.every_sec
    if trigger.kind == "at_unix":
        return None if js.fired else trigger.at_unix
    assert trigger.cron is not None
    # A new home fires nothing from the past: its window starts now.
    return trigger.cron.next_after(now if last_cycle is None else last_cycle)


def refresh(job: Job, js: JobState, last_cycle: float | None, now: float) -> None:
    """Recompute `next_due` when the job's trigger differs from the one it was saved for."""
    text = job.trigger.text if job.enabled else f"{job.trigger.text} {DISABLED}"
    if js.trigger != text:
        if js.trigger.removesuffix(f" {DISABLED}") != job.trigger.text:
            js.fired = False  # a new at_unix instant is a new one-shot
        js.trigger = text
        js.next_due = next_due(job, js, last_cycle, now)


def fire(job: Job, js: JobState, now: float) -> int:
    """Record that `job` fires at `now`; returns how many instants the run stands for."""
    trigger = job.trigger
    missed = 1
    if trigger.kind == "cron":
        assert trigger.cron is not None and js.next_due is not None
        missed = 0
        instants = trigger.cron.instants_after(js.next_due - 1e-6)
        for instant in instants:
            if instant > now or missed >= MISSED_COUNT_LIMIT:
                break
            missed += 1
        js.next_due = trigger.cron.next_after(now)
    elif trigger.kind == "every_sec":
        js.next_due = now + trigger.every_sec
    else:
        js.fired = True
        js.next_due = None
    js.last_fire = now
    return missed


def upcoming(job: Job, js: JobState, last_cycle: float | None, now: float) -> Iterator[float]:
    """The job's coming fire times (for `schedule next`); a due job's first is `now`."""
    first = js.next_due if js.trigger else next_due(job, js, last_cycle, now)
    if first is None:
        return
    trigger = job.trigger
    if trigger.kind == "at_unix":
        yield max(first, now)
        return
    if trigger.kind == "every_sec":
        t = max(first, now)
        while True:
            yield t
            t += trigger.every_sec
    assert trigger.cron is not None
    if first <= now:
        yield now
        first = now
    else:
        yield first
    yield from trigger.cron.instants_after(first)
