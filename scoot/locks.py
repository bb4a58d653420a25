"""flock-based locks: one scheduler per home, one run per job.

The kernel releases an flock when its holder dies, so a crash never leaves a home
locked. The scheduler lock file also records who holds it (pid, kind, start time),
written after the lock is taken, so a refused second scheduler can say who is there.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scoot.home import FILE_MODE


class Busy(Exception):
    """The lock is held by someone else; `holder` is what they recorded (may be empty)."""

    def __init__(self, holder: dict[str, Any]) -> None:
        super().__init__(holder)
        self.holder = holder


@dataclass
class FileLock:
    path: Path
    fd: int = -1

    def try_acquire(self) -> bool:
        """Take the lock without waiting; False when someone else holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the only descriptor drops the flock
            self.fd = -1

    @property
    def held(self) -> bool:
        return self.fd >= 0


def read_holder(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes() or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class SchedulerLock(FileLock):
    """The home's scheduler lock; `acquire` raises Busy with the holder's record."""

    def acquire(self, kind: str, started_at: str, wait_holder: float = 1.0) -> None:
        if not self.try_acquire():
            # The winner writes its record just after taking the lock: give it a moment.
            deadline = time.monotonic() + wait_holder
            holder = read_holder(self.path)
            while not holder and time.monotonic() < deadline:
                time.sleep(0.01)
                holder = read_holder(self.path)
            raise Busy(holder)
        record = json.dumps({"pid": os.getpid(), "kind": kind, "started_at": started_at})
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, record.encode(), 0)
