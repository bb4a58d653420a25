"""UTC timestamps as the spec writes them: ISO-8601 ending in `Z`."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def iso_utc(ts: float, *, ms: bool = False) -> str:
    """`2026-12-01T00:00:00Z`, or with milliseconds `2026-12-01T00:00:00.123Z`."""
    dt = datetime.fromtimestamp(ts, UTC)
    if ms:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    """Inverse of `iso_utc` (either precision)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def compact_utc(ts: float) -> str:
    """`20261201T000000Z`, the prefix of session ids."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ts))
