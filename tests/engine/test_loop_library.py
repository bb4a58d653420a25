"""The loop's trigger logic through the library, with an injected clock (no sleeps)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from scoot.config import load
from scoot.home import RuntimeHome
from scoot.locks import FileLock
from scoot.loop import Scheduler
from scoot.runs import RunRequest
from scoot.state import read_wake

T0 = 1_893_456_000.0  # 2030-01-01T00:00:00Z


class Recorder:
    """A starter that records what would run instead of spawning it."""

    def __init__(self) -> None:
        self.started: list[RunRequest] = []

    def __call__(self, request: RunRequest, lock: FileLock) -> None:
        lock.release()
        self.started.append(request)

    def ids(self) -> list[str | None]:
        out = [r.job_id for r in self.started]
        self.started.clear()
        return out


def make_home(tmp_path: Path, jobs: str, enabled: bool = True) -> RuntimeHome:
    home = RuntimeHome(tmp_path / "home")
    home.ensure_folders()
    home.config.write_text(
        f"[schedule]\nenabled = {'true' if enabled else 'false'}\n\n{jobs}"
    )
    return home


def scheduler(home: RuntimeHome, now: float) -> tuple[Scheduler, Recorder]:
    rec = Recorder()
    sched = Scheduler(home, load(home.config).config, starter=rec, clock=lambda: now)
    sched.load(now)
    return sched, rec


def job(job_id: str, trigger: str) -> str:
    return f'[[schedule.jobs]]\nid = "{job_id}"\ngoal = "true"\n{trigger}\nmode = "unrestricted"\n'


def test_every_sec_fires_at_the_first_cycle_then_every_n(tmp_path: Path) -> None:
    home = make_home(tmp_path, job("e", "every_sec = 60"))
    sched, rec = scheduler(home, T0)
    assert sched.cycle(T0) == ["e"]
    assert rec.started[0].scheduled_for == T0
    rec.ids()
    assert sched.cycle(T0 + 59.9) == []
    assert sched.cycle(T0 + 60) == ["e"]
    # A restart keeps the rhythm: the persisted last fire, not "first cycle" again.
    sched2, _ = scheduler(home, T0 + 61)
    assert sched2.cycle(T0 + 61) == []
    assert sched2.next_due() == ("e", T0 + 120)


def test_at_unix_fires_once_ever_across_restarts(tmp_path: Path) -> None:
    home = make_home(tmp_path, job("once", f"at_unix = {T0 + 10}"))
    sched, _ = scheduler(home, T0)
    assert sched.cycle(T0) == []
    assert sched.cycle(T0 + 10) == ["once"]
    assert sched.cycle(T0 + 20) == []
    sched2, _ = scheduler(home, T0 + 30)
    assert sched2.cycle(T0 + 30) == []
    assert sched2.next_due() is None
    state = json.loads(home.schedule_json.read_text())
    assert state["jobs"]["once"]["fired"] is True


def test_at_unix_in_the_past_fires_at_the_first_cycle(tmp_path: Path) -> None:
    home = make_home(tmp_path, job("late", f"at_unix = {T0 - 3600}"))
    sched, _ = scheduler(home, T0)
    assert sched.cycle(T0) == ["late"]


def test_cron_new_home_fires_nothing_from_the_past(tmp_path: Path) -> None:
    home = make_home(tmp_path, job("c", 'cron = "* * * * *"'))
    sched, rec = scheduler(home, T0 + 30)
    assert sched.cycle(T0 + 30) == []  # 00:00:00 lies before the home's first cycle
    assert sched.cycle(T0 + 59) == []
    assert sched.cycle(T0 + 60) == ["c"]
    assert rec.started[0].missed == 1
    assert rec.started[0].scheduled_for == T0 + 60


def test_missed_cron_instants_coalesce_into_one_run(tmp_path: Path) -> None:
    home = make_home(tmp_path, job("c", 'cron = "*/5 * * * *"'))
    sched, _ = scheduler(home, T0 + 1)
    sched.cycle(T0 + 1)
    # Downtime: the next scheduler starts 1 hour later; 12 instants were passed.
    sched2, rec = scheduler(home, T0 + 3601)
    assert sched2.cycle(T0 + 3601) == ["c"]
    assert rec.started[0].missed == 12
    assert rec.started[0].scheduled_for == T0 + 300
    assert sched2.cycle(T0 + 3602) == []
    assert sched2.next_due() == ("c", T0 + 3900)


def test_clock_going_backwards_never_refires(tmp_path: Path) -> None:
    home = make_home(tmp_path, job("c", 'cron = "* * * * *"') + job("e", "every_sec = 60"))
    sched, _rec = scheduler(home, T0 + 1)
    assert sorted(sched.cycle(T0 + 1)) == ["e"]
    assert sorted(sched.cycle(T0 + 61)) == ["c", "e"]
    # The clock steps back two minutes, then comes forward again.
    assert sched.cycle(T0 - 60) == []
    assert sched.cycle(T0 + 30) == []
    assert sched.cycle(T0 + 61) == []
    assert json.loads(home.schedule_json.read_text())["last_cycle"] == T0 + 61


def test_a_trigger_change_recomputes_next_due_and_removed_jobs_are_dropped(
        tmp_path: Path) -> None:
    home = make_home(tmp_path, job("a", "every_sec = 60") + job("b", "every_sec = 60"))
    sched, _ = scheduler(home, T0)
    sched.cycle(T0)
    home.config.write_text("[schedule]\nenabled = true\n" + job("a", f"at_unix = {T0 + 5}"))
    sched2, _ = scheduler(home, T0 + 1)
    assert sched2.next_due() == ("a", T0 + 5)
    sched2.persist()
    assert set(json.loads(home.schedule_json.read_text())["jobs"]) == {"a"}


def test_disabled_jobs_never_fire_and_the_wake_summary_names_the_next_instant(
        tmp_path: Path) -> None:
    home = make_home(tmp_path, job("a", "every_sec = 60") + job("off", "every_sec = 1")
                     .replace('mode = "unrestricted"', 'mode = "unrestricted"\nenabled = false'))
    sched, _ = scheduler(home, T0)
    assert sched.cycle(T0) == ["a"]
    assert sched.cycle(T0 + 30) == []
    assert read_wake(home) == T0 + 60
    assert sched.status_line() == "2 jobs; next a at 00:01:00Z"


def test_a_cycle_with_10000_jobs_and_nothing_due_does_not_scan(tmp_path: Path) -> None:
    jobs = "".join(job(f"j{i}", f"every_sec = {3600 + i}") for i in range(10_000))
    home = make_home(tmp_path, jobs)
    sched, _ = scheduler(home, T0)
    assert len(sched.cycle(T0)) == 10_000  # all fire once (first cycle)
    rounds = 1000
    start = time.perf_counter()
    for k in range(rounds):
        assert sched.cycle(T0 + 1 + k * 0.001) == []
        assert sched.popped == 0  # the heap's top says nothing is due: no job examined
    per_cycle = (time.perf_counter() - start) / rounds
    print(f"10,000-job nothing-due cycle: {per_cycle * 1e6:.1f} us")
    assert sched.cycle(T0 + 3600) == ["j0"]
    assert sched.popped == 1


def test_schedule_disabled_loads_no_job(tmp_path: Path) -> None:
    home = make_home(tmp_path, job("a", "every_sec = 1"), enabled=False)
    sched, _ = scheduler(home, T0)
    assert sched.cycle(T0) == []
    assert sched.next_due() is None
