"""The nothing-due `--ticks 1` path, answered with the stdlib alone.

An external timer wakes `scoot schedule run --ticks 1` every poll; most wake-ups
find nothing due. When `state/wake` still vouches for config.toml and
schedule.json (same inode, size and mtime) and its earliest due instant lies in
the future, and no other scheduler holds the home, there is nothing to do: the
full path would find the same. Anything else falls through to it.
"""

from __future__ import annotations

import os
import time


def _home_and_rest(args: list[str]) -> tuple[str | None, list[str]]:
    if args[:1] == ["--scoot-home"] and len(args) >= 2:
        return args[1], args[2:]
    if args and args[0].startswith("--scoot-home="):
        return args[0].split("=", 1)[1], args[1:]
    return None, args


def try_fast_tick(args: list[str]) -> int | None:
    """0 when a nothing-due tick was handled here; None to take the full path."""
    option, rest = _home_and_rest(args)
    if rest not in (["schedule", "run", "--ticks", "1"], ["schedule", "run", "--ticks=1"]):
        return None
    if not option:
        option = os.environ.get("SCOOT_HOME")
    from pathlib import Path

    from scoot.home import resolve_home
    from scoot.state import read_wake

    home = resolve_home(option or None)
    due = read_wake(home)
    if due is None or due <= time.time():
        return None
    import fcntl

    # Only the holder of the scheduler lock may tick; a busy home is reported by the
    # full path. Nothing is held past this check, so it cannot block another start.
    try:
        fd = os.open(Path(home.scheduler_lock), os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return None
    finally:
        os.close(fd)
    return 0
