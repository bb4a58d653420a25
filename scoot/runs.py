"""One run: spawn `runner.command + [goal]` and supervise it to its end (SPEC §6).

A `Run` owns its session folder, its child process (leader of its own process
group), the pipe that carries the child's stdout and stderr, and, for a readonly
run, the sandbox wrapper's report pipe. A supervisor thread copies output into
`output.log` (capped), enforces the timeout, reads the sandbox report and writes the
final session record; the caller never blocks on it unless it asks to wait.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from scoot import sessions
from scoot.atomic import write_all
from scoot.audit import AuditLog
from scoot.config import Config, Job
from scoot.home import FILE_MODE, RuntimeHome
from scoot.locks import FileLock
from scoot.modes import READONLY, UNRESTRICTED
from scoot.sandbox import gate
from scoot.timeutil import iso_utc

KILL_AFTER_SEC = 10.0  # SIGTERM first; SIGKILL this long after a timeout (SPEC §5)
# After the leader exits, a background child it left may still hold the output pipe
# open: read what it writes for this long, then stop listening (docs/SCHEDULING.md).
LINGER_SEC = 1.0
# Without pidfd (macOS), how often the supervisor checks whether the child exited.
POLL_SEC = 0.05
# Variables through which a job could talk to the service manager as the daemon.
SERVICE_MANAGER_VARS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


@dataclass(frozen=True)
class RunRequest:
    home: RuntimeHome
    goal: str
    job_id: str | None  # None for `scoot -e`
    trigger: str  # every_sec | at_unix | cron | exec | manual
    scheduled_for: float | None
    requested_mode: str
    effective_mode: str
    command: tuple[str, ...]
    timeout_sec: float
    output_max_bytes: int
    env: Mapping[str, str] = field(default_factory=dict)  # runner.env, then job env
    workdir: str | None = None
    best_effort: bool = False  # policy.sandbox = "best-effort"
    missed: int | None = None  # cron: how many instants this run stands for
    interactive: bool = False  # `-e` on a terminal: the goal keeps our stdin
    tee: BinaryIO | None = None  # also stream output here (`-e`)


def job_request(
    home: RuntimeHome,
    config: Config,
    job: Job,
    *,
    trigger: str,
    scheduled_for: float | None,
    effective_mode: str,
    missed: int | None = None,
) -> RunRequest:
    return RunRequest(
        home=home,
        goal=job.goal,
        job_id=job.id,
        trigger=trigger,
        scheduled_for=scheduled_for,
        requested_mode=job.mode,
        effective_mode=effective_mode,
        command=config.runner_command,
        timeout_sec=job.timeout_sec or config.runner_timeout_sec,
        output_max_bytes=config.output_max_bytes,
        env={**config.runner_env, **job.env},
        workdir=job.workdir,
        best_effort=config.policy_sandbox == "best-effort",
        missed=missed,
    )


def run_environment(
    request: RunRequest, session_id: str, scratch: Path, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Scoot's environment + runner/job env + SCOOT_*, minus the service manager's."""
    env = dict(os.environ if base is None else base)
    env.update(request.env)
    env.update({
        "SCOOT_HOME": str(request.home.root),
        "SCOOT_JOB_ID": request.job_id or "",
        "SCOOT_SESSION_ID": session_id,
        "SCOOT_MODE": request.effective_mode,
        "SCOOT_SCRATCH": str(scratch),
    })
    for name in SERVICE_MANAGER_VARS:
        env.pop(name, None)
    return env


class Run:
    """One supervised run; `start()` returns at once, `done` is set when it has ended."""

    def __init__(
        self,
        request: RunRequest,
        *,
        audit: AuditLog,
        lock: FileLock | None = None,
        on_end: Callable[[Run], None] | None = None,
    ) -> None:
        self.request = request
        self.audit = audit
        self.lock = lock  # the job's overlap lock, released when the run ends
        self.on_end = on_end
        # A run armed ahead of its instant (start(gated=True)) is named after the instant.
        self.started_at = max(time.time(), request.scheduled_for or 0.0)
        self.session_id = sessions.new_id(self.started_at, request.job_id)
        self.record: dict[str, Any] = sessions.new_record(
            self.session_id,
            job=request.job_id,
            goal=request.goal,
            trigger=request.trigger,
            scheduled_for=request.scheduled_for,
            started_at=self.started_at,
            requested_mode=request.requested_mode,
            effective_mode=request.effective_mode,
        )
        self.done = threading.Event()
        self.spawned = threading.Event()  # set once a child exists (or never will)
        self.proc: subprocess.Popen[bytes] | None = None
        self._interrupted = False
        self._thread: threading.Thread | None = None
        self._launch_error: Exception | None = None
        self.spawned_at: float | None = None
        self._log_fd = -1  # output.log, written by the supervisor
        self._gate_w = -1  # a held run's gate (see start(gated=True))
        self._report_r = -1  # the sandbox wrapper's report, read by the supervisor

    # --- the caller's side -----------------------------------------------------------

    def start(self, *, gated: bool = False) -> None:
        """Start the child now, in the caller's thread, then supervise it in a thread.

        The child is spawned here rather than by the supervisor thread so that a job
        starts at its instant: a new thread may wait milliseconds for the GIL while the
        loop persists the schedule (SPEC §13 lateness budget).

        `gated`: the child is started but held at its gate (scoot.sandbox.gate), its
        start-up and sandbox already done, until `release()` at the instant; `cancel()`
        gives it up before the goal ever runs.
        """
        try:
            self._launch(gated)
        except Exception as e:  # a bug or an I/O error of ours: the thread records it
            self._launch_error = e
        if gated and self._gate_w < 0:
            self._drop()  # not held: the loop starts the job the ordinary way when due
        elif self._gate_w < 0:
            self._supervise_in_thread()

    @property
    def held(self) -> bool:
        """Started and waiting at its gate."""
        return self._gate_w >= 0

    def release(self, *, scheduled_for: float | None, missed: int | None) -> None:
        """Let a held run go: its goal starts now (one byte through the gate)."""
        now = time.time()
        self.request = replace(self.request, scheduled_for=scheduled_for, missed=missed)
        self.started_at = now
        self.record["started_at"] = iso_utc(now, ms=True)
        if scheduled_for is not None:
            self.record["scheduled_for"] = iso_utc(scheduled_for, ms=True)
        with contextlib.suppress(OSError):
            os.write(self._gate_w, gate.RELEASE)
        os.close(self._gate_w)
        self._gate_w = -1
        self.spawned_at = now
        self._supervise_in_thread()

    def cancel(self) -> None:
        """Give up a held run: the goal never runs, and no session remains of it."""
        if self._gate_w >= 0:
            os.close(self._gate_w)  # EOF at the gate: the child exits by itself
            self._gate_w = -1
        self._signal_group(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
        self._drop()

    def _drop(self) -> None:
        """Forget a run whose goal never ran: no session folder, no lock, no events."""
        if self._report_r >= 0:
            os.close(self._report_r)
            self._report_r = -1
        shutil.rmtree(self.request.home.session_dir(self.session_id), ignore_errors=True)
        if self.lock is not None:
            self.lock.release()
        self.done.set()

    def _supervise_in_thread(self) -> None:
        self._thread = threading.Thread(
            target=self._supervise, name=f"run {self.session_id}", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    @property
    def status(self) -> str:
        return str(self.record["status"])

    def interrupt(self) -> None:
        """Stop the run on behalf of a stopping scheduler: its session ends `interrupted`."""
        self._interrupted = True
        self._signal_group(signal.SIGTERM)

    def kill(self) -> None:
        self._interrupted = True
        self._signal_group(signal.SIGKILL)

    def exit_status(self) -> int:
        """What `scoot -e` exits with: the goal's status, 128+N when killed by signal N."""
        if self.record["signal"] is not None:
            return 128 + int(self.record["signal"])
        code = self.record["exit_code"]
        return int(code) if code is not None else 1

    def _signal_group(self, signum: int) -> None:
        proc = self.proc
        if proc is None:
            return
        # The leader's pid is the group id (start_new_session / process_group=0).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)

    # --- the supervisor thread -------------------------------------------------------

    def _supervise(self) -> None:
        try:
            if self._launch_error is not None:
                raise self._launch_error
            self._watch()
        except Exception as e:  # a bug or an I/O error of ours: the session must still end
            self.record["status"] = "failed"
            self.record["reason"] = f"scoot: {type(e).__name__}: {e}"
            with contextlib.suppress(Exception):
                self._finish(None, duration=time.time() - self.started_at)
        finally:
            self.spawned.set()
            if self.lock is not None:
                self.lock.release()
            self.done.set()
            if self.on_end is not None:
                self.on_end(self)

    def _launch(self, gated: bool = False) -> None:
        """Session folder, then the child; a refusal or a failed exec ends the run here."""
        req = self.request
        home = req.home
        folder = sessions.create_folder(home, self.session_id)
        scratch = folder / "scratch"
        env = run_environment(req, self.session_id, scratch)
        argv = [*req.command, req.goal]
        cwd = req.workdir or str(scratch)
        report_r = report_w = gate_r = gate_w = -1
        if gated:
            gate_r, gate_w = os.pipe()
        if req.effective_mode == READONLY:
            from scoot.sandbox import launch

            report_r, report_w = os.pipe()
            try:
                argv = launch.wrapper_argv(
                    argv, scratch=scratch, best_effort=req.best_effort, report_fd=report_w,
                    gate_fd=gate_r if gated else None,
                )
            except launch.Unsupported as e:
                for fd in (report_r, report_w, gate_r, gate_w):
                    if fd >= 0:
                        os.close(fd)
                if gated:
                    return  # not held; refused when started the ordinary way
                (folder / "output.log").touch(mode=FILE_MODE)
                self._refuse(str(e), ())
                return
            env = launch.confine_env(env, scratch)
            cwd = str(scratch)  # the wrapper confines writes to scratch; start there
        elif gated:
            argv = launch_gated(argv, gate_r)
        passed = tuple(fd for fd in (report_w, gate_r) if fd >= 0)
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=None if req.interactive else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                pass_fds=passed,
                start_new_session=not req.interactive,
                process_group=0 if req.interactive else None,
            )
        except OSError as e:
            if gated:
                os.close(gate_w)
                if report_r >= 0:
                    os.close(report_r)
                return  # not held; reported when started the ordinary way
            log_fd = self._open_log()
            os.write(log_fd, f"[scoot] cannot start {argv[0]}: {e.strerror or e}\n".encode())
            os.close(log_fd)
            if report_r >= 0:
                os.close(report_r)
            self.record.update(status="failed", exit_code=127, reason=f"cannot start: {e}")
            self.record["output_bytes"] = 0
            self._finish(None, duration=0.0)
            return
        finally:
            for fd in (report_w, gate_r):
                if fd >= 0:
                    os.close(fd)  # the child holds its own copy
        self._report_r = report_r
        self._gate_w = gate_w
        if not gated:
            self.spawned_at = time.time()  # Popen returns once the child has exec'd
        self.spawned.set()

    def _open_log(self) -> int:
        # Created by the supervisor once the child runs (its output waits in the pipe),
        # so the start of a job does not wait for one more file creation.
        path = self.request.home.session_dir(self.session_id) / "output.log"
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, FILE_MODE)

    def _watch(self) -> None:
        """The supervisor's part: record the start, pump output, conclude."""
        proc = self.proc
        if proc is None:
            return  # refused or not started: `_launch` already ended the run
        self._log_fd = self._open_log()
        try:
            if self._interrupted:  # the scheduler began stopping while we spawned
                self._signal_group(signal.SIGTERM)
            self.record["pid"] = proc.pid
            sessions.write(self.request.home, self.record)
            if self._report_r < 0:
                self._audit_start()
            took_tty = self._take_terminal()
            try:
                report = self._pump(proc, self._log_fd, self._report_r)
            finally:
                if took_tty:
                    self._give_back_terminal()
        finally:
            os.close(self._log_fd)
        self._conclude(proc, report)

    def _audit_start(self, layers: tuple[str, ...] = (), missing: tuple[str, ...] = (),
                     landlock_abi: int | None = None) -> None:
        req = self.request
        fields: dict[str, Any] = {
            "job": req.job_id, "session": self.session_id, "trigger": req.trigger,
            "mode": req.effective_mode, "requested_mode": req.requested_mode,
        }
        if req.scheduled_for is not None and self.spawned_at is not None:
            # How late the child started (exec'd) after its instant, to the microsecond:
            # the figure SPEC §13 budgets, visible to operators in every run_start.
            fields["late_ms"] = round((self.spawned_at - req.scheduled_for) * 1000, 3)
        if req.missed is not None:
            fields["missed"] = req.missed
        if req.effective_mode == UNRESTRICTED:
            fields["unrestricted"] = True
        if req.effective_mode == READONLY:
            fields["sandbox"] = list(layers)
            fields["landlock_abi"] = landlock_abi
            if missing:
                fields["sandbox_missing"] = list(missing)
        self.audit.append("run_start", **fields)

    def _refuse(self, reason: str, missing: tuple[str, ...]) -> None:
        self.record.update(status="refused", reason=reason, sandbox_missing=list(missing))
        self.record["finished_at"] = iso_utc(time.time(), ms=True)
        sessions.write(self.request.home, self.record)
        self.audit.append(
            "run_refused", job=self.request.job_id, session=self.session_id,
            mode=self.request.effective_mode, reason=reason, missing=list(missing),
        )

    def _pump(self, proc: subprocess.Popen[bytes], log_fd: int, report_r: int) -> Any:
        """Copy output, read the sandbox report, enforce the timeout; returns the report."""
        req = self.request
        assert proc.stdout is not None
        out_fd = proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(out_fd, selectors.EVENT_READ, "out")
        report_data = b""
        report: Any = None
        if report_r >= 0:
            sel.register(report_r, selectors.EVENT_READ, "report")
        pidfd = -1
        with contextlib.suppress(AttributeError, OSError):
            pidfd = os.pidfd_open(proc.pid)
            sel.register(pidfd, selectors.EVENT_READ, "exit")
        cap = req.output_max_bytes
        kept = total = 0
        truncated = False
        tee = req.tee
        deadline: float | None = time.monotonic() + req.timeout_sec
        kill_at: float | None = None
        linger_until: float | None = None
        out_open = True
        try:
            while True:
                if proc.returncode is None:
                    proc.poll()
                now = time.monotonic()
                report_pending = report_r >= 0 and report is None
                if proc.returncode is not None:
                    if linger_until is None:
                        linger_until = now + LINGER_SEC
                    if (not out_open and not report_pending) or now >= linger_until:
                        break
                elif deadline is not None and now >= deadline:
                    self.record["status"] = "timeout"
                    self._signal_group(signal.SIGTERM)
                    deadline = None
                    kill_at = now + KILL_AFTER_SEC
                elif kill_at is not None and now >= kill_at:
                    self._signal_group(signal.SIGKILL)
                    kill_at = None
                waits = [t - now for t in (deadline, kill_at, linger_until) if t is not None]
                if pidfd < 0 and proc.returncode is None:
                    waits.append(POLL_SEC)
                timeout = max(0.0, min(waits)) if waits else None
                for key, _ in sel.select(timeout):
                    if key.data == "exit":
                        sel.unregister(pidfd)
                    elif key.data == "report":
                        chunk = os.read(report_r, 65536)
                        if chunk:
                            report_data += chunk
                        else:
                            sel.unregister(report_r)
                            report = self._on_report(report_data)
                    else:
                        chunk = os.read(out_fd, 65536)
                        if not chunk:
                            sel.unregister(out_fd)
                            out_open = False
                            continue
                        total += len(chunk)
                        if tee is not None:
                            try:
                                tee.write(chunk)
                                tee.flush()
                            except (OSError, ValueError):
                                tee = None  # the reader left; keep recording
                        if kept < cap:
                            part = chunk[: cap - kept]
                            write_all(log_fd, part)
                            kept += len(part)
                            overflow = len(part) < len(chunk)
                        else:
                            overflow = True
                        if overflow and not truncated:
                            truncated = True
                            marker = f"\n[scoot] output truncated at {cap} bytes\n"
                            write_all(log_fd, marker.encode())
            proc.wait()
            if report_r >= 0 and report is None:
                # The wrapper ended without closing its report (it cannot have run the
                # goal confined as far as we know): this reads as a refusal.
                report = self._on_report(report_data)
        finally:
            sel.close()
            if pidfd >= 0:
                os.close(pidfd)
            if report_r >= 0:
                os.close(report_r)
            proc.stdout.close()
        self.record["output_bytes"] = total
        self.record["output_truncated"] = truncated
        return report

    def _on_report(self, data: bytes) -> Any:
        from scoot.sandbox import launch

        report = launch.parse_report(data)
        self.record["sandbox"] = list(report.layers)
        self.record["sandbox_missing"] = list(report.missing)
        self.record["landlock_abi"] = report.landlock_abi
        if report.ok:
            sessions.write(self.request.home, self.record)
            self._audit_start(report.layers, report.missing, report.landlock_abi)
        return report

    def _conclude(self, proc: subprocess.Popen[bytes], report: Any) -> None:
        rc = proc.returncode
        duration = time.time() - self.started_at
        self.record["exit_code"] = rc if rc >= 0 else None
        self.record["signal"] = -rc if rc < 0 else None
        if report is not None and not report.ok:
            self.record["exit_code"] = rc if rc >= 0 else None
            self._refuse(report.reason or "sandbox refused", tuple(report.missing))
            return
        if self._interrupted:
            self.record["status"] = "interrupted"
        elif self.record["status"] == "timeout":
            pass
        else:
            self.record["status"] = "ok" if rc == 0 else "failed"
        self._finish(rc, duration)

    def _finish(self, rc: int | None, duration: float) -> None:
        self.record["finished_at"] = iso_utc(time.time(), ms=True)
        sessions.write(self.request.home, self.record)
        self.audit.append(
            "run_end", job=self.request.job_id, session=self.session_id,
            status=self.record["status"], exit_code=self.record["exit_code"],
            signal=self.record["signal"], duration=round(duration, 3),
        )

    # --- `-e` on a terminal: the goal gets the terminal's foreground ------------------

    def _take_terminal(self) -> bool:
        if not self.request.interactive or self.proc is None:
            return False
        try:
            os.tcsetpgrp(sys.stdin.fileno(), self.proc.pid)
        except (OSError, ValueError):
            return False
        # Had the goal read the terminal before it was its own, it was stopped (SIGTTIN).
        self._signal_group(signal.SIGCONT)
        return True

    def _give_back_terminal(self) -> None:
        # We are a background group now: without blocking SIGTTOU the call stops us.
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})
        try:
            os.tcsetpgrp(sys.stdin.fileno(), os.getpgrp())
        except (OSError, ValueError):
            pass
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def launch_gated(argv: list[str], gate_fd: int) -> list[str]:
    from scoot.sandbox import launch

    return launch.gated_argv(argv, gate_fd)


def wait_in_foreground(run: Run, *, poll: float = 0.1) -> int | None:
    """Wait for `run` in the main thread; SIGTERM/SIGINT/SIGHUP interrupt it.

    Returns the signal that interrupted the wait, or None. The handlers only record
    the signal; this loop acts on it.
    """
    received: list[int] = []

    def record(signum: int, _frame: object) -> None:
        received.append(signum)

    watched = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {s: signal.signal(s, record) for s in watched}
    acted = False
    try:
        while not run.wait(poll):
            if received and not acted:
                acted = True
                run.interrupt()
                run.wait(KILL_AFTER_SEC)
                if not run.done.is_set():
                    run.kill()
        return received[0] if received else None
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def fire_job(home: RuntimeHome, config: Config, job_id: str) -> Run:
    """`schedule fire`: run one configured job now under the scheduled-job policy.

    Respects the job's overlap lock (busy: exit 75) and waits for the run; a stop
    signal meanwhile interrupts it. The schedule's own state is left alone.
    """
    from scoot.errors import ExitCode, ScootError
    from scoot.modes import scheduled_mode

    job = config.job(job_id)
    if job is None:
        bad = next((b for b in config.invalid if b.label == job_id), None)
        if bad is not None:
            raise ScootError(f'job "{job_id}" is invalid: {bad.reason}')
        raise ScootError(f'no job "{job_id}" in {config.path}')
    home.ensure_folders()
    lock = FileLock(home.job_lock(job.id))
    if not lock.try_acquire():
        audit = AuditLog(home.audit_log)
        audit.append("run_skipped", job=job.id, trigger="manual", reason="still running")
        raise ScootError(f'job "{job.id}" is still running', ExitCode.BUSY)
    request = job_request(home, config, job, trigger="manual", scheduled_for=None,
                          effective_mode=scheduled_mode(job.mode))
    run = Run(request, audit=AuditLog(home.audit_log), lock=lock)
    run.start()
    wait_in_foreground(run)
    return run
