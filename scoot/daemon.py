"""The daemon's lifecycle around the tick loop (SPEC §8, docs/DAEMON.md).

Who runs is decided by one thing only: the home's scheduler lock, an exclusive
flock held for the daemon's whole life. The kernel drops it when the holder dies,
so a crash can never leave a home blocked, and two daemons started at the same
instant cannot both get it. `state/daemon.pid` and `state/daemon.json` are records
for `status` and `stop`, not the guard.

A recorded pid is trusted only when that process is alive and started when the
record says it did: the record's `started_at` is this process's own start time as
the kernel reports it (via psutil), so `stop` compares like with like and never
signals an unrelated process that inherited the number.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from scoot import __version__, sessions
from scoot.atomic import read_json, write_atomic, write_json_atomic
from scoot.audit import AuditLog
from scoot.errors import ExitCode, ScootError
from scoot.home import RuntimeHome
from scoot.locks import Busy, SchedulerLock
from scoot.loop import LoopObserver, Scheduler
from scoot.notify import Notifier
from scoot.procs import is_same_process, own_start_time, process_start_time
from scoot.timeutil import iso_utc

if TYPE_CHECKING:
    from scoot.config import Config

STATE_KEYS = (
    "status", "pid", "started_at", "stopped_at", "stop_reason", "job_count", "poll_ms",
    "home", "version", "ticks", "last_tick_at",
)
LOCK_KIND = "daemon"

# How far a live process's start time may lie from the recorded `started_at` and
# still be taken for the daemon. started_at is written with whole seconds (up to 1 s
# lost) and the kernel's start time is derived from the boot time, itself known to
# the second (up to 1 s of jitter between two reads). A process that reused the pid
# would have had to start within this window of the daemon: not a real risk.

# daemon.json is rewritten with the tick count at most this often: each write costs
# two fsyncs, and an idle daemon polling every second would otherwise make them every
# cycle. The lifecycle fields (start, reload, stop) are always written at once.
TICK_WRITE_INTERVAL_SEC = 30.0

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


# --- reading the records -----------------------------------------------------------


def read_state(home: RuntimeHome) -> dict[str, Any] | None:
    """daemon.json as a dict, None when absent; unreadable is an error (exit 1)."""
    try:
        data = read_json(home.daemon_json)
    except (OSError, ValueError) as e:
        raise ScootError(f"cannot read {home.daemon_json}: {e}") from None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ScootError(f"cannot read {home.daemon_json}: not a JSON object")
    return data


def read_pid_file(home: RuntimeHome) -> int | None:
    try:
        text = home.daemon_pid.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise ScootError(f"cannot read {home.daemon_pid}: {e}") from None
    try:
        return int(text)
    except ValueError:
        return None  # garbage is as good as no pid file: it names no process


def is_daemon_process(pid: int, started_at: str | None) -> bool:
    """True only when `pid` is alive and is the daemon that started at `started_at`."""
    return is_same_process(pid, started_at)


@dataclass(frozen=True)
class Inspection:
    """What `status` and `stop` see: the records and whether they name a live daemon."""

    state: dict[str, Any] | None
    pid_file: int | None
    alive: bool  # the recorded pid is alive and is the recorded daemon

    @property
    def pid(self) -> int | None:
        pid = (self.state or {}).get("pid")
        return pid if isinstance(pid, int) else None

    @property
    def verdict(self) -> str:
        """`running`, `stale` (recorded running, not alive), `stopped` or `none`."""
        if self.state is None:
            return "none"
        if self.state.get("status") == "running":
            return "running" if self.alive else "stale"
        return "stopped"

    @property
    def exit_code(self) -> int:
        return {"running": ExitCode.OK, "none": ExitCode.NO_STATE}.get(
            self.verdict, ExitCode.NOT_RUNNING
        )

    def summary(self) -> str:
        s = self.state or {}
        verdict = self.verdict
        if verdict == "none":
            return "no daemon state recorded"
        if verdict == "stale":
            return f"running (stale: pid {s.get('pid')} is gone)"
        if verdict == "running":
            last = s.get("last_tick_at") or "never"
            return (
                f"running (pid={s.get('pid')} started_at={s.get('started_at')} "
                f"jobs={s.get('job_count')} ticks={s.get('ticks')} last_tick_at={last})"
            )
        return f"stopped (stopped_at={s.get('stopped_at')} stop_reason={s.get('stop_reason')})"

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = dict(self.state or {})
        doc.update(alive=self.alive, verdict=self.verdict, summary=self.summary())
        return doc


def inspect(home: RuntimeHome) -> Inspection:
    state = read_state(home)
    pid_file = read_pid_file(home)
    alive = False
    if state is not None and state.get("status") == "running":
        pid = state.get("pid")
        alive = isinstance(pid, int) and is_daemon_process(pid, state.get("started_at"))
    return Inspection(state, pid_file, alive)


# --- stop ----------------------------------------------------------------------------


def stop(
    home: RuntimeHome,
    timeout: float,
    say: Callable[[str], None],
    *,
    poll: float = 0.05,
) -> int:
    """SIGTERM the verified daemon and wait for it to end; 0 when stopped or not running."""
    ins = inspect(home)
    pid = ins.pid
    why = _not_signalling_because(ins)
    if why is not None or pid is None:
        say(f"no daemon is running ({why})")
        if ins.pid_file is not None:
            _remove_pid_file(home, only=ins.pid_file)
            say(f"removed stale pid file {home.daemon_pid} (pid {ins.pid_file})")
        return ExitCode.OK
    started_at = (ins.state or {}).get("started_at")
    # Last check right before the kill: the process could have ended meanwhile.
    if not is_daemon_process(pid, started_at):
        say(f"no daemon is running (pid {pid} ended)")
        return ExitCode.OK
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        say(f"no daemon is running (pid {pid} ended)")
        return ExitCode.OK
    say(f"stopping daemon (pid={pid}) ...")
    deadline = time.monotonic() + timeout
    while is_daemon_process(pid, started_at):
        if time.monotonic() >= deadline:
            raise ScootError(
                f"daemon (pid={pid}) did not stop within {timeout:g}s; it is still running"
            )
        time.sleep(poll)
    state = read_state(home) or {}
    if state.get("status") != "stopped" or state.get("pid") != pid:
        raise ScootError(
            f"daemon (pid={pid}) ended without recording its stop; "
            "the next `scoot daemon run` recovers"
        )
    say(f"daemon stopped (pid={pid} stop_reason={state.get('stop_reason')})")
    return ExitCode.OK


def _not_signalling_because(ins: Inspection) -> str | None:
    """Why `stop` must not send a signal, or None when every check of SPEC §8 holds."""
    if ins.state is None:
        return "no state recorded"
    if ins.state.get("status") != "running":
        return "state says stopped"
    pid = ins.pid
    if pid is None:
        return "state names no pid"
    if ins.pid_file != pid:
        found = "missing" if ins.pid_file is None else f"holds pid {ins.pid_file}"
        return f"state names pid {pid} but state/daemon.pid is {found}"
    if not ins.alive:
        if process_start_time(pid) is None:
            return f"pid {pid} is gone"
        return f"pid {pid} now belongs to another process"
    return None


def _remove_pid_file(home: RuntimeHome, *, only: int | None = None) -> None:
    """Remove daemon.pid; with `only`, just when it still holds that pid."""
    if only is not None and read_pid_file(home) != only:
        return
    try:
        home.daemon_pid.unlink()
    except FileNotFoundError:
        pass


# --- run ------------------------------------------------------------------------------


class StateRecord:
    """This daemon's daemon.json: every key of SPEC §8, written atomically."""

    def __init__(self, home: RuntimeHome, *, pid: int, started_at: str, job_count: int,
                 poll_ms: int) -> None:
        self.home = home
        self.doc: dict[str, Any] = {
            "status": "running",
            "pid": pid,
            "started_at": started_at,
            "stopped_at": None,
            "stop_reason": None,
            "job_count": job_count,
            "poll_ms": poll_ms,
            "home": str(home.root),
            "version": __version__,
            "ticks": 0,
            "last_tick_at": None,
        }
        self._written_at = 0.0

    def write(self) -> None:
        write_json_atomic(self.home.daemon_json, self.doc)
        self._written_at = time.monotonic()

    def update(self, *, force: bool = False, **fields: Any) -> None:
        """Apply `fields`; write now when forced or when the last write is old enough."""
        self.doc.update(fields)
        if force or time.monotonic() - self._written_at >= TICK_WRITE_INTERVAL_SEC:
            self.write()


class DaemonObserver(LoopObserver):
    """What the daemon adds to the loop: sd_notify messages and the daemon.json record."""

    def __init__(self, record: StateRecord, notifier: Notifier,
                 on_started: Callable[[], None]) -> None:
        self.record = record
        self.notifier = notifier
        self._on_started = on_started
        self._scheduler: Scheduler | None = None
        self.stopping_sent = False

    def _send_status(self, scheduler: Scheduler, *, ready: bool = False) -> None:
        line = scheduler.status_line()
        if ready:
            self.notifier.ready(line)
        else:
            # Every cycle, as SPEC §10 says: one datagram costs next to nothing, and
            # systemd then always shows the loop's latest view.
            self.notifier.status(line)

    def started(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self.record.update(force=True, job_count=scheduler.job_count,
                           poll_ms=scheduler.config.poll_ms)
        self._send_status(scheduler, ready=True)
        # The Scheduler's handlers are in place now: let held signals through.
        self._on_started()

    def cycle_done(self, scheduler: Scheduler, now: float) -> None:
        last = scheduler.last_tick_at
        ticks = scheduler.ticks_done
        # The first tick is recorded at once; later ones at most every 30 s.
        self.record.update(force=ticks <= 1, ticks=ticks,
                           last_tick_at=iso_utc(last if last is not None else now))
        self._send_status(scheduler)

    def sleep_bound(self) -> float | None:
        return self.notifier.sleep_bound

    def woke(self) -> None:
        self.notifier.watchdog_if_due()

    def reloading(self) -> None:
        self.notifier.reloading()

    def reloaded(self, ok: bool, reason: str | None) -> None:
        scheduler = self._scheduler
        if scheduler is None:  # a reload before `started`: nothing announced yet
            return
        self.record.update(force=True, job_count=scheduler.job_count,
                           poll_ms=scheduler.config.poll_ms)
        # READY=1 ends the reload for systemd whether or not the new config was taken.
        self._send_status(scheduler, ready=True)

    def stopping(self, reason: str) -> None:
        if not self.stopping_sent:
            self.stopping_sent = True
            self.notifier.stopping()


@contextmanager
def _signals_held() -> Iterator[Callable[[], None]]:
    """Hold SIGTERM/SIGINT/SIGHUP pending until the Scheduler's handlers are in place.

    Between taking the lock and the loop's start, a default-action SIGTERM would
    kill the daemon with its state saying `running`. Blocked, the signal waits and
    reaches the Scheduler's handler as soon as the loop reports `started`. The mask
    is restored before any run is spawned (children inherit it) and on every exit.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    released = False

    def release() -> None:
        nonlocal released
        if not released:
            released = True
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    try:
        yield release
    finally:
        release()


def refusal(holder: dict[str, Any], state: dict[str, Any] | None) -> str:
    """The refusal text for a home whose scheduler lock `holder` has."""
    kind = holder.get("kind")
    if kind == LOCK_KIND or (not holder and (state or {}).get("status") == "running"):
        src = holder or state or {}
        return (
            "[scoot] refusing to start: detected daemon already running "
            f"(pid={src.get('pid')} started_at={src.get('started_at')}).\n"
            "Run `scoot daemon stop` first."
        )
    if kind == "schedule":
        who = "a `scoot schedule run` loop"
    else:
        who = f"another scheduler (kind {kind})" if kind else "another scheduler"
    return (
        f"[scoot] refusing to start: {who} "
        f"(pid={holder.get('pid')} started_at={holder.get('started_at')}) holds this home; "
        "stop it first."
    )


def run(
    home: RuntimeHome,
    config: Config,
    ticks: int,
    err: TextIO,
    *,
    environ: dict[str, str] | None = None,
) -> int:
    """`scoot daemon run`: guard, recover, record, loop, record the stop. Returns 0."""
    if not config.schedule_enabled:
        raise ScootError(
            f"[scoot] schedule is disabled: set [schedule] enabled = true in {config.path}",
            ExitCode.CONFIG,
            bare=True,
        )
    home.ensure_folders()
    audit = AuditLog(home.audit_log)
    pid = os.getpid()
    started_at = iso_utc(own_start_time())
    notifier = Notifier.from_environ(environ, unset=True)
    with _signals_held() as release_signals:
        lock = SchedulerLock(home.scheduler_lock)
        try:
            lock.acquire(LOCK_KIND, started_at)
        except Busy as busy:
            holder = busy.holder
            try:
                state = read_state(home)
            except ScootError:
                state = None
            audit.append("daemon_refused", holder_pid=holder.get("pid"),
                         holder_kind=holder.get("kind"),
                         holder_started_at=holder.get("started_at"))
            raise ScootError(refusal(holder, state), ExitCode.BUSY, bare=True) from None
        try:
            return _run_locked(home, config, ticks, err, audit, notifier, lock,
                               pid=pid, started_at=started_at, release_signals=release_signals)
        finally:
            lock.release()
            notifier.close()


def _warn(err: TextIO, line: str) -> None:
    err.write(f"[scoot] warning: {line}\n")
    err.flush()


def _recover(home: RuntimeHome, err: TextIO, audit: AuditLog) -> None:
    """We hold the lock, so no daemon of this home is alive: a `running` record is a crash."""
    try:
        previous = read_state(home)
    except ScootError as e:
        err.write(f"[scoot] warning: {e.message}; starting a fresh state\n")
        return
    if previous is None or previous.get("status") != "running":
        return
    ppid, pstarted = previous.get("pid"), previous.get("started_at")
    err.write(
        f"[scoot] warning: previous daemon (pid={ppid} started_at={pstarted}) "
        "did not stop cleanly; recovering\n"
    )
    err.flush()
    interrupted = sessions.mark_orphaned(home, audit)
    audit.append("daemon_recovered", previous_pid=ppid, previous_started_at=pstarted,
                 interrupted=interrupted)


def _run_locked(
    home: RuntimeHome,
    config: Config,
    ticks: int,
    err: TextIO,
    audit: AuditLog,
    notifier: Notifier,
    lock: SchedulerLock,
    *,
    pid: int,
    started_at: str,
    release_signals: Callable[[], None],
) -> int:
    _recover(home, err, audit)
    record = StateRecord(home, pid=pid, started_at=started_at, job_count=len(config.jobs),
                         poll_ms=config.poll_ms)
    observer = DaemonObserver(record, notifier, release_signals)
    write_atomic(home.daemon_pid, f"{pid}\n")
    reason = "error: unknown"
    trace: str | None = None
    try:
        record.write()
        audit.append("daemon_start", started_at=started_at, job_count=len(config.jobs),
                     poll_ms=config.poll_ms, version=__version__, home=str(home.root),
                     notify=notifier.enabled, watchdog_interval=notifier.watchdog_interval)
        scheduler = Scheduler(home, config, ticks=ticks, kind=LOCK_KIND, observer=observer,
                              lock=lock, warn=lambda line: _warn(err, line))
        try:
            reason = scheduler.run()
        finally:
            record.doc["ticks"] = int(scheduler.ticks_done)
            if scheduler.last_tick_at is not None:
                record.doc["last_tick_at"] = iso_utc(scheduler.last_tick_at)
        return int(ExitCode.OK)
    except ScootError as e:
        reason = f"error: {e.message}"
        raise
    except Exception as e:
        # One line for the operator (and exit 1, so Restart=on-failure applies); the
        # traceback goes into the daemon_stop audit event for whoever debugs it.
        reason = f"error: {type(e).__name__}: {e}"
        trace = traceback.format_exc()
        raise ScootError(f"daemon stopped on an {reason}") from e
    except BaseException as e:
        reason = f"error: {type(e).__name__}"
        raise
    finally:
        if not observer.stopping_sent:
            notifier.stopping()
        record.update(force=True, status="stopped", stopped_at=iso_utc(time.time()),
                      stop_reason=reason)
        extra = {} if trace is None else {"traceback": trace}
        audit.append("daemon_stop", reason=reason, started_at=started_at,
                     ticks=record.doc["ticks"], **extra)
        # Last: while the pid file exists, `stop` may still signal us.
        _remove_pid_file(home)
