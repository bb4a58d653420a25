"""Where things live in a runtime home, and how the home is found, with `os` alone.

Kept free of pathlib and dataclasses because the nothing-due `--ticks 1` path
(scoot.fasttick) reads it, and every import there is paid on each timer tick.
scoot.home builds its RuntimeHome paths from the same names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

CONFIG = "config.toml"
SCHEDULE_JSON = os.path.join("state", "schedule.json")
WAKE = os.path.join("state", "wake")
SCHEDULER_LOCK = os.path.join("state", "scheduler.lock")


def resolve_root(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """`--scoot-home` wins over `SCOOT_HOME`, which wins over `~/.scoot`."""
    env = os.environ if environ is None else environ
    raw = option or env.get("SCOOT_HOME") or "~/.scoot"
    return os.path.abspath(os.path.expanduser(raw))
