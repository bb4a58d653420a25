"""The wake summary and the nothing-due `--ticks 1` path, with the stdlib alone.

An external timer wakes `scoot schedule run --ticks 1` every poll; most wake-ups
find nothing due. Each save of schedule.json also writes `state/wake`: the
earliest due instant and the stat() identity (inode, size, mtime) of config.toml
and schedule.json. While that identity still holds, the instant lies in the
future and no other scheduler holds the home, the full path would find nothing
to do either, so it is answered here without click, TOML or croniter. Anything
else falls through to the full path.

Only `os`, `time` and `fcntl` are imported: pathlib, dataclasses and json would
each cost more than the rest of this path.
"""

from __future__ import annotations

import os
import time

from scoot import paths

FORMAT = "1"


def identity(path: str) -> str:
    st = os.stat(path)
    return f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def wake_line(root: str, next_due: float | None) -> str:
    """The summary vouching for the current config.toml and schedule.json."""
    due = "none" if next_due is None else repr(next_due)
    config = identity(os.path.join(root, paths.CONFIG))
    schedule = identity(os.path.join(root, paths.SCHEDULE_JSON))
    return f"{FORMAT} {due} {config} {schedule}\n"


def read_wake(root: str) -> float | None:
    """The earliest due instant while the summary still vouches for both files.

    None when the summary is missing or stale (the config or the schedule changed
    since it was written); `inf` when no job is ever due.
    """
    try:
        with open(os.path.join(root, paths.WAKE)) as f:
            fmt, due, config_id, schedule_id = f.read().split()
        if fmt != FORMAT:
            return None
        if config_id != identity(os.path.join(root, paths.CONFIG)):
            return None
        if schedule_id != identity(os.path.join(root, paths.SCHEDULE_JSON)):
            return None
    except (OSError, ValueError):
        return None
    return float("inf") if due == "none" else float(due)


def split_home(args: list[str]) -> tuple[str | None, list[str]]:
    """The value of a leading `--scoot-home DIR` (or `=DIR`), and the arguments after it."""
    if args[:1] == ["--scoot-home"] and len(args) >= 2:
        return args[1], args[2:]
    if args and args[0].startswith("--scoot-home="):
        return args[0].split("=", 1)[1], args[1:]
    return None, args


def try_fast_tick(args: list[str]) -> int | None:
    """0 when a nothing-due tick was handled here; None to take the full path."""
    option, rest = split_home(args)
    if rest not in (["schedule", "run", "--ticks", "1"], ["schedule", "run", "--ticks=1"]):
        return None
    root = paths.resolve_root(option or None)
    due = read_wake(root)
    if due is None or due <= time.time():
        return None
    import fcntl

    # Only the holder of the scheduler lock may tick; a busy home is reported by the
    # full path. Nothing is held past this check, so it cannot block another start.
    try:
        fd = os.open(os.path.join(root, paths.SCHEDULER_LOCK), os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return None
    finally:
        os.close(fd)
    return 0
