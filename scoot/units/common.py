"""What the systemd and launchd generators share: the file type and the timings."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scoot.config import Config
from scoot.errors import ExitCode, ScootError

# How much longer than `daemon.stop_timeout_sec` the service manager waits before it
# kills: after the grace, Scoot ends the runs still going (SIGTERM, SIGKILL 10 s
# later) and records the stop; 15 s covers those 10 s plus writing the state.
STOP_MARGIN_SEC = 15


@dataclass(frozen=True)
class UnitFile:
    name: str
    text: str


def period(config: Config, every: int | None) -> int:
    """Seconds between two ticks: `--every`, else `poll_ms` rounded up (at least 1)."""
    if every is not None:
        if every < 1:
            raise ScootError(f"the tick period must be at least 1 s, got {every}", ExitCode.USAGE)
        return every
    return max(1, math.ceil(config.poll_ms / 1000))


def stop_grace(config: Config) -> int:
    """TimeoutStopSec= / ExitTimeOut: longer than Scoot's own stop grace."""
    return math.ceil(config.stop_timeout_sec) + STOP_MARGIN_SEC
