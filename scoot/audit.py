"""The append-only audit log (SPEC §9).

Each event is one `write()` on a descriptor opened with O_APPEND, so lines from
several processes never interleave. The file is reopened for every event so an
external rotation (rename + new file) is honoured at once.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scoot.home import FILE_MODE
from scoot.timeutil import iso_utc

DURABLE_EVENTS = frozenset({"run_end", "daemon_stop"})


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        record: dict[str, Any] = {"ts": iso_utc(time.time(), ms=True), "event": event}
        record["pid"] = os.getpid()
        record.update(fields)
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
        try:
            os.write(fd, line)
            if event in DURABLE_EVENTS:
                os.fsync(fd)
        finally:
            os.close(fd)
        return record


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    """Every complete event; a torn last line (a writer died mid-line) is ignored."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return
    for line in data.splitlines():
        try:
            yield json.loads(line)
        except ValueError:
            continue
