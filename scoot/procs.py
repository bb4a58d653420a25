"""Is a recorded pid still the process we recorded? (pids are reused)"""

from __future__ import annotations

import os
import time

from scoot.timeutil import parse_iso

# The kernel's start time of a process is known to the clock tick, but Scoot records
# its own timestamps a moment before or after exec: this much apart is "the same".
IDENTITY_SLACK_SEC = 2.0


def pid_alive(pid: int) -> bool:
    """True while `pid` is a live process (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
        return state != b"Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): kill(0) said it exists


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), or None when there is no such live process.

    A zombie counts as gone: it has exited and only waits for its parent to reap it.
    """
    import psutil  # heavy: only on the paths that check a recorded pid

    if pid <= 0:
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(proc.create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        # Another user's process: it exists, but it cannot be the one we recorded
        # unless its start time matches, which we cannot read. Treat it as not ours.
        return None


def is_same_process(pid: int, started_at: str | None) -> bool:
    """True only when `pid` is alive and started at `started_at` (ISO, within the slack)."""
    if not started_at:
        return False
    try:
        recorded = parse_iso(started_at)
    except ValueError:
        return False
    start = process_start_time(pid)
    return start is not None and abs(start - recorded) <= IDENTITY_SLACK_SEC


def own_start_time() -> float:
    """This process's start time, as `process_start_time` would report it.

    Read from /proc directly on Linux (start ticks after boot + boot time, the same
    sum psutil makes), so a daemon does not load psutil just to learn it.
    """
    try:
        with open("/proc/self/stat", "rb") as f:
            ticks = int(f.read().rsplit(b")", 1)[1].split()[19])  # field 22: starttime
        with open("/proc/stat", "rb") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith(b"btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        start = process_start_time(os.getpid())  # no /proc (macOS)
        return start if start is not None else time.time()
