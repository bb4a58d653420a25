"""The scheduler loop: cycles, the heap of due instants, signals (SPEC §5, §8).

One `Scheduler` per home at a time (the home's flock). Each wake-up is a cycle: it
pops every job whose next-due instant has come from a heap, starts each as a child
process (never waiting for it), persists what changed, and sleeps until the earlier
of `poll_ms` and the next due instant. Signal handlers only record the signal; the
loop maps it to an action between cycles (TERM/INT: stop, HUP: reload).
"""

from __future__ import annotations

import contextlib
import heapq
import os
import select
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from scoot import sessions
from scoot.audit import AuditLog
from scoot.config import Config, Job, load
from scoot.errors import ExitCode, ScootError
from scoot.home import RuntimeHome
from scoot.locks import Busy, FileLock, SchedulerLock
from scoot.modes import scheduled_mode
from scoot.runs import Run, RunRequest, job_request
from scoot.state import ScheduleState, append_fires, load_schedule, read_fires, save_schedule
from scoot.timeutil import iso_utc
from scoot.triggers import fire, refresh

SWITCH_INTERVAL_SEC = 0.0005
# How long before its instant the next due job is started and held at its gate
# (scoot.sandbox.gate): process start-up and the sandbox layers happen before the
# instant, and the goal itself starts at it.
ARM_SEC = 0.25
# How long before a due instant the loop wakes to wait out the rest awake (_sleep).
SPIN_SEC = 0.001
# After stop_timeout_sec, runs get SIGTERM; this long later, SIGKILL.
INTERRUPT_GRACE_SEC = 5.0
STOP_SIGNALS = {signal.SIGTERM: "SIGTERM", signal.SIGINT: "SIGINT"}


class Observer(Protocol):
    """What the loop calls on its observer (see LoopObserver for each hook's meaning)."""

    def started(self, scheduler: Scheduler) -> None: ...
    def cycle_done(self, scheduler: Scheduler, now: float) -> None: ...
    def sleep_bound(self) -> float | None: ...
    def woke(self) -> None: ...
    def reloading(self) -> None: ...
    def reloaded(self, ok: bool, reason: str | None) -> None: ...
    def stopping(self, reason: str) -> None: ...


class LoopObserver:
    """Hooks for whoever wraps the loop (the daemon: sd_notify, daemon.json). No-ops."""

    def started(self, scheduler: Scheduler) -> None:
        """The lock is held and the jobs are loaded."""

    def cycle_done(self, scheduler: Scheduler, now: float) -> None:
        """After every cycle."""

    def sleep_bound(self) -> float | None:
        """The longest the loop may sleep (seconds), e.g. for a watchdog; None: no bound."""
        return None

    def woke(self) -> None:
        """Each wake-up of the loop, before its cycle (also while draining runs)."""

    def reloading(self) -> None:
        """A SIGHUP is about to re-read the config."""

    def reloaded(self, ok: bool, reason: str | None) -> None:
        """The reload finished; `ok` False means the old config keeps running."""

    def stopping(self, reason: str) -> None:
        """The loop starts nothing more and is about to drain its runs."""


Starter = Callable[[RunRequest, FileLock], "Run | None"]


def busy_message(home: RuntimeHome, holder: dict[str, Any]) -> str:
    if not holder:
        return f"home {home.root} is busy: another scheduler holds its lock"
    return (
        f"home {home.root} is busy: a {holder.get('kind', 'scheduler')} holds its scheduler "
        f"lock (pid={holder.get('pid')} started_at={holder.get('started_at')})"
    )


class Scheduler:
    def __init__(
        self,
        home: RuntimeHome,
        config: Config,
        *,
        ticks: int = 0,
        kind: str = "schedule",
        observer: Observer | None = None,
        lock: SchedulerLock | None = None,
        clock: Callable[[], float] = time.time,
        starter: Starter | None = None,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.home = home
        self.config = config
        self.ticks = ticks
        self.kind = kind
        self.observer: Observer = observer or LoopObserver()
        self.audit = AuditLog(home.audit_log)
        self.ticks_done = 0
        self.last_tick_at: float | None = None
        self.popped = 0  # heap entries the last cycle took (the cost of a cycle)
        self._lock = lock  # already held by the caller (daemon run) when given
        self._clock = clock
        self._starter = starter or self._start_run
        self._warn = warn or (lambda _line: None)
        self.state = ScheduleState()
        self._jobs: dict[str, Job] = {}  # the jobs that may fire (valid, enabled)
        self._heap: list[tuple[float, int, str]] = []
        self._runs: set[Run] = set()
        self._armed: dict[str, Run] = {}  # job id -> its next run, held at its gate
        self._finished: deque[Run] = deque()
        self._signals: list[int] = []
        self._stop_requests: list[str] = []
        self._wake_r = self._wake_w = -1  # signal wake-ups (set_wakeup_fd)
        self._done_r = self._done_w = -1  # a run ended / a stop was requested
        self._dirty = False

    # --- what the daemon reads ------------------------------------------------------

    @property
    def job_count(self) -> int:
        return len(self.config.jobs)

    @property
    def running(self) -> int:
        return len(self._runs)

    def next_due(self) -> tuple[str, float] | None:
        if not self._heap:
            return None
        due, _, job_id = self._heap[0]
        return job_id, due

    def status_line(self) -> str:
        jobs = f"{self.job_count} job{'s' if self.job_count != 1 else ''}"
        nxt = self.next_due()
        if nxt is None:
            return f"{jobs}; nothing scheduled"
        job_id, due = nxt
        now = self._clock()
        when = "now" if due <= now else "at " + iso_utc(due)[11:]
        return f"{jobs}; next {job_id} {when}"

    def request_stop(self, reason: str) -> None:
        """Ask the loop to stop as after a signal (safe from any thread)."""
        self._stop_requests.append(reason)
        self._poke(self._done_w)

    # --- loading --------------------------------------------------------------------

    def load(self, now: float) -> None:
        """Read schedule.json (and the fires journaled after it) and fit it to the config."""
        self.state = load_schedule(self.home)
        self._apply_config(now)
        if self._replay_fires():
            self._build_heap()

    def _replay_fires(self) -> bool:
        """Apply fires a crashed scheduler journaled but did not save; True if any."""
        replayed = False
        for seq, job_id, at in read_fires(self.home, self.state.fire_seq):
            self.state.fire_seq = max(self.state.fire_seq, seq)
            self._dirty = True
            job = self.config.job(job_id)
            js = self.state.jobs.get(job_id)
            if job is None or js is None:
                continue  # gone from the config since
            if js.next_due is None and job.trigger.kind == "cron":
                continue  # nothing left to consume
            fire(job, js, at)
            replayed = True
        return replayed

    def _apply_config(self, now: float) -> None:
        config, state = self.config, self.state
        keep = {j.id for j in config.jobs} | {bad.label for bad in config.invalid}
        for job_id in [j for j in state.jobs if j not in keep]:
            del state.jobs[job_id]
            self._dirty = True
        # A job first seen now cannot have been due before the config that defines it
        # was written: its cron window starts at the later of the last cycle and the
        # config's mtime (a new home's first cycle starts it now).
        since = state.last_cycle
        if since is not None:
            with contextlib.suppress(OSError):
                since = max(since, os.stat(config.path).st_mtime)
        for job in config.jobs:
            js = state.job(job.id)
            before = (js.trigger, js.next_due, js.fired)
            refresh(job, js, since, now)
            if (js.trigger, js.next_due, js.fired) != before:
                self._dirty = True
        self._jobs = {j.id: j for j in config.jobs if j.enabled} if config.schedule_enabled else {}
        self._build_heap()

    def _build_heap(self) -> None:
        state = self.state
        self._heap = [
            (js.next_due, job.index, job.id)
            for job in self._jobs.values()
            if (js := state.jobs[job.id]).next_due is not None
        ]
        heapq.heapify(self._heap)

    def persist(self) -> None:
        nxt = self.next_due()
        save_schedule(self.home, self.state, nxt[1] if nxt else None, vouch=not self._runs)
        self._dirty = False

    # --- one cycle ------------------------------------------------------------------

    def cycle(self, now: float) -> list[str]:
        """Start every job due at `now`; returns their ids. Never waits for a run."""
        self._collect_finished()
        heap = self._heap
        self.popped = 0
        due_now: list[tuple[Job, float, int | None]] = []
        while heap and heap[0][0] <= now:
            due, index, job_id = heapq.heappop(heap)
            self.popped += 1
            job = self._jobs[job_id]
            js = self.state.jobs[job_id]
            # every_sec never fired is due "at the first cycle" (next_due 0): it is
            # scheduled for this cycle itself.
            scheduled_for = due if due > 0 else now
            missed = fire(job, js, now)
            self._dirty = True
            if js.next_due is not None:
                heapq.heappush(heap, (js.next_due, index, job_id))
            due_now.append((job, scheduled_for, missed if job.trigger.kind == "cron" else None))
        last = self.state.last_cycle
        if last is None or now > last:
            # last_cycle only moves forward, so a clock going back never reopens a window.
            self.state.last_cycle = now
            if last is None:
                self._dirty = True  # a new home: persist where its windows begin
        if due_now:
            # Journaled before any run starts, persisted in schedule.json after they
            # have: a crash in between replays the journal, never repeats a fire.
            self.state.fire_seq += 1
            append_fires(self.home, self.state.fire_seq, [(job.id, now) for job, _, _ in due_now])
        started = [job.id for job, scheduled_for, missed in due_now
                   if self._start(job, scheduled_for, missed)]
        if self._dirty:
            self.persist()
        return started

    def _arm(self, now: float) -> None:
        """Start the next due job's run ahead of its instant, held at its gate."""
        if not self._heap:
            return
        due, _, job_id = self._heap[0]
        if job_id in self._armed or not now < due <= now + ARM_SEC:
            return
        job = self._jobs[job_id]
        lock = FileLock(self.home.job_lock(job_id))
        if not lock.try_acquire():
            return  # still running: recorded as skipped when due
        request = job_request(
            self.home, self.config, job, trigger=job.trigger.kind, scheduled_for=due,
            effective_mode=scheduled_mode(job.mode),
        )
        run = Run(request, audit=self.audit, lock=lock, on_end=self._run_ended)
        run.start(gated=True)
        if run.held:
            self._armed[job_id] = run

    def _cancel_armed(self) -> None:
        while self._armed:
            _, run = self._armed.popitem()
            run.cancel()

    def _start(self, job: Job, scheduled_for: float, missed: int | None) -> bool:
        armed = self._armed.pop(job.id, None)
        if armed is not None:
            armed.release(scheduled_for=scheduled_for, missed=missed)
            self._runs.add(armed)
            return True
        lock = FileLock(self.home.job_lock(job.id))
        if not lock.try_acquire():
            self.audit.append("run_skipped", job=job.id, trigger=job.trigger.kind,
                              reason="still running")
            return False
        request = job_request(
            self.home, self.config, job, trigger=job.trigger.kind, scheduled_for=scheduled_for,
            effective_mode=scheduled_mode(job.mode), missed=missed,
        )
        run = self._starter(request, lock)
        if run is not None:
            self._runs.add(run)
        return True

    def _start_run(self, request: RunRequest, lock: FileLock) -> Run:
        run = Run(request, audit=self.audit, lock=lock, on_end=self._run_ended)
        run.start()
        return run

    def _run_ended(self, run: Run) -> None:
        # Supervisor thread: hand the run to the loop, which alone touches the state.
        self._finished.append(run)
        self._poke(self._done_w)

    def _collect_finished(self) -> None:
        while self._finished:
            run = self._finished.popleft()
            self._runs.discard(run)
            job_id = run.request.job_id
            js = self.state.jobs.get(job_id) if job_id else None
            if js is not None:
                js.last_result = run.status
                js.last_session = run.session_id
                self._dirty = True

    @staticmethod
    def _poke(fd: int) -> None:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.write(fd, b"\0")

    # --- the loop -------------------------------------------------------------------

    def run(self) -> str:
        """Run until `ticks` cycles are done or a stop signal; returns the stop reason."""
        self.home.ensure_folders()
        own_lock = self._lock is None
        if self._lock is None:
            lock = SchedulerLock(self.home.scheduler_lock)
            try:
                lock.acquire(self.kind, iso_utc(time.time()))
            except Busy as e:
                raise ScootError(busy_message(self.home, e.holder), ExitCode.BUSY) from None
            self._lock = lock
        # Supervisor threads hold the GIL for up to the switch interval (5 ms by
        # default) when the loop wakes for a due job; a shorter one bounds that wait.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_SEC)
        try:
            self._open_pipes()
            previous = self._install_handlers()
            try:
                return self._loop()
            finally:
                self._restore_handlers(previous)
                self._close_pipes()
                sys.setswitchinterval(switch)
        finally:
            if own_lock and self._lock is not None:
                self._lock.release()
                self._lock = None

    def _loop(self) -> str:
        reason = "error"
        now = self._clock()
        for bad in self.config.invalid:
            self.audit.append("job_invalid", job=bad.label, index=bad.index, reason=bad.reason)
        sessions.mark_orphaned(self.home, self.audit)
        self.load(now)
        self.audit.append("schedule_start", kind=self.kind, ticks=self.ticks,
                          job_count=self.job_count, poll_ms=self.config.poll_ms)
        try:
            self.observer.started(self)
            while True:
                stop = self._handle_signals()
                if stop:
                    reason = stop
                    break
                now = self._clock()
                self.cycle(now)
                self.ticks_done += 1
                self.last_tick_at = now
                self.observer.cycle_done(self, now)
                if self.ticks and self.ticks_done >= self.ticks:
                    reason = "ticks"
                    break
                self._arm(self._clock())
                # The time after the cycle, not its start: the cycle's own work (persisting,
                # fsyncs) would otherwise be slept again and the next job start that late.
                self._sleep(self._sleep_for(self._clock()))
                self.observer.woke()
            self.observer.stopping(reason)
            reason = self._drain(reason)
        except BaseException as e:
            reason = f"error: {e}" if isinstance(e, Exception) else reason
            self._cancel_armed()
            self._interrupt_all()
            raise
        finally:
            self._collect_finished()
            with contextlib.suppress(OSError):
                self.persist()
            self.audit.append("schedule_stop", kind=self.kind, reason=reason,
                              ticks=self.ticks_done)
        return reason

    def _sleep_for(self, now: float) -> float:
        timeout = self.config.poll_ms / 1000
        if self._heap:
            due, _, job_id = self._heap[0]
            if job_id not in self._armed and due - ARM_SEC > now:
                due -= ARM_SEC  # wake to arm it first
            timeout = min(timeout, due - now)
        bound = self.observer.sleep_bound()
        if bound is not None:
            timeout = min(timeout, bound)
        return max(0.0, timeout)

    def _sleep(self, timeout: float) -> None:
        # A sleeping CPU (a halted vCPU most of all) takes a few hundred microseconds to
        # wake. When a job is due within this sleep, wake SPIN_SEC early and wait out
        # the rest awake, so it starts within microseconds of its instant (SPEC §13).
        due = self._heap[0][0] if self._heap else None
        spin = due is not None and due <= time.time() + timeout + 1e-6 and timeout > 0
        if spin:
            timeout = max(0.0, timeout - SPIN_SEC)
        fds = [fd for fd in (self._wake_r, self._done_r) if fd >= 0]
        if not fds:
            time.sleep(timeout)
            return
        ready, _, _ = select.select(fds, [], [], timeout)
        for fd in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(fd, 4096)
        if spin and not ready:
            assert due is not None
            # Bounded by the monotonic clock too: a wall clock stepped back meanwhile
            # must not turn this into a long busy loop.
            end = time.monotonic() + 2 * SPIN_SEC
            while time.time() < due and time.monotonic() < end:
                pass

    def _handle_signals(self) -> str | None:
        while self._signals:
            signum = self._signals.pop(0)
            if signum == signal.SIGHUP:
                self.reload()
            elif signum in STOP_SIGNALS:
                return STOP_SIGNALS[signal.Signals(signum)]
        if self._stop_requests:
            return self._stop_requests[0]
        return None

    def reload(self) -> bool:
        """Re-read the config (SIGHUP); an invalid one leaves the running one in place."""
        self.observer.reloading()
        try:
            loaded = load(self.config.path)
        except ScootError as e:
            self.audit.append("config_invalid", reason=e.message)
            self._warn(f"config not reloaded, keeping the running one: {e.message}")
            self.observer.reloaded(False, e.message)
            return False
        for line in loaded.warnings:
            self._warn(line)
        for bad in loaded.config.invalid:
            self._warn(bad.warning)
            self.audit.append("job_invalid", job=bad.label, index=bad.index, reason=bad.reason)
        self.config = loaded.config
        self._collect_finished()
        self._cancel_armed()  # armed for the old config's instants
        self._apply_config(self._clock())
        if self._dirty:
            self.persist()
        self.audit.append("config_reloaded", job_count=self.job_count,
                          schedule_enabled=self.config.schedule_enabled)
        self.observer.reloaded(True, None)
        return True

    # --- stopping -------------------------------------------------------------------

    def _wait_runs(self, deadline: float | None) -> str | None:
        """Wait for the running runs (until `deadline`, monotonic); a stop signal ends it."""
        while True:
            self._collect_finished()
            if not self._runs:
                return None
            # A stop signal while waiting (a second one while draining) ends the wait;
            # a SIGHUP is moot once nothing more will start.
            stops = [STOP_SIGNALS[signal.Signals(s)] for s in self._signals
                     if s in STOP_SIGNALS]
            self._signals.clear()
            if stops:
                return stops[0]
            timeout = self.config.poll_ms / 1000
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                timeout = min(timeout, left)
            bound = self.observer.sleep_bound()
            if bound is not None:
                timeout = min(timeout, bound)
            self._sleep(max(0.0, timeout))
            self.observer.woke()

    def _drain(self, reason: str) -> str:
        self._cancel_armed()  # nothing more starts
        if reason == "ticks":
            # Each run is bounded by its own timeout; a stop signal shortens the wait.
            stop = self._wait_runs(None)
            if stop is None:
                return reason
            self.observer.stopping(stop)
            reason = stop
        self._wait_runs(time.monotonic() + self.config.stop_timeout_sec)
        self._interrupt_all()
        return reason

    def _interrupt_all(self) -> None:
        runs = list(self._runs)
        if not runs:
            return
        for run in runs:
            run.spawned.wait(2.0)
            run.interrupt()
        deadline = time.monotonic() + INTERRUPT_GRACE_SEC
        for run in runs:
            run.wait(max(0.0, deadline - time.monotonic()))
        for run in runs:
            if not run.done.is_set():
                run.kill()
        for run in runs:
            run.wait(INTERRUPT_GRACE_SEC)
        self._collect_finished()

    # --- signals and wake-up pipes --------------------------------------------------

    def _open_pipes(self) -> None:
        self._wake_r, self._wake_w = os.pipe()
        self._done_r, self._done_w = os.pipe()
        for fd in (self._wake_r, self._wake_w, self._done_r, self._done_w):
            os.set_blocking(fd, False)

    def _close_pipes(self) -> None:
        fds = (self._wake_r, self._wake_w, self._done_r, self._done_w)
        self._wake_r = self._wake_w = self._done_r = self._done_w = -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._signals.append(signum)  # only record; the loop acts (set_wakeup_fd wakes it)

    def _install_handlers(self) -> tuple[Any, ...]:
        old_fd = signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        handlers = {s: signal.signal(s, self._on_signal)
                    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        return old_fd, handlers

    def _restore_handlers(self, previous: tuple[Any, ...]) -> None:
        old_fd, handlers = previous
        for s, handler in handlers.items():
            signal.signal(s, handler)
        signal.set_wakeup_fd(old_fd)
