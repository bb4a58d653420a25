"""Cron expressions against dates checked by hand on a calendar (all UTC).

Runs under whichever croniter is installed; scripts/test runs it under the newest
release and under Debian 12's 1.3.5.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from scoot import cron


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M")


CASES = [
    # Vixie AND rule: a day field starting with `*` (also `*/2`) means both must match.
    ("0 0 */2 * 1", "2026-11-01T00:00", ["2026-11-09T00:00", "2026-11-23T00:00", "2026-12-07T00:00"]),
    ("35 * */10 * 6", "2026-11-01T00:00", ["2026-11-21T00:35", "2026-11-21T01:35", "2026-11-21T02:35"]),
    ("35 * */10 * 6", "2026-11-21T23:40", ["2027-05-01T00:35", "2027-05-01T01:35", "2027-05-01T02:35"]),
    ("30 6 * jan,jul mon", "2026-11-01T00:00", ["2027-01-04T06:30", "2027-01-11T06:30", "2027-01-18T06:30"]),
    # Both day fields restricted: either matches (Dec 13 2026 is a Sunday).
    ("0 0 13 * 5", "2026-12-05T00:00", ["2026-12-11T00:00", "2026-12-13T00:00", "2026-12-18T00:00"]),
    ("0 0 1 * 6", "2026-11-23T00:00", ["2026-11-28T00:00", "2026-12-01T00:00", "2026-12-05T00:00"]),
    # Aliases, names, steps, ranges, Sunday as 7, leap days.
    ("@daily", "2026-11-23T08:00", ["2026-11-24T00:00", "2026-11-25T00:00", "2026-11-26T00:00"]),
    ("@hourly", "2026-11-23T08:00", ["2026-11-23T09:00", "2026-11-23T10:00", "2026-11-23T11:00"]),
    ("@weekly", "2026-11-01T00:00", ["2026-11-08T00:00", "2026-11-15T00:00", "2026-11-22T00:00"]),
    ("@monthly", "2026-11-23T00:00", ["2026-12-01T00:00", "2027-01-01T00:00", "2027-02-01T00:00"]),
    ("@yearly", "2026-11-23T00:00", ["2027-01-01T00:00", "2028-01-01T00:00", "2029-01-01T00:00"]),
    ("*/20 9-10 * * *", "2026-11-01T10:30", ["2026-11-01T10:40", "2026-11-02T09:00", "2026-11-02T09:20"]),
    ("15 14 1-3 * *", "2026-11-02T15:00", ["2026-11-03T14:15", "2026-12-01T14:15", "2026-12-02T14:15"]),
    ("0 12 * * 7", "2026-11-01T13:00", ["2026-11-08T12:00", "2026-11-15T12:00", "2026-11-22T12:00"]),
    ("0 0 29 2 *", "2026-11-01T00:00", ["2028-02-29T00:00", "2032-02-29T00:00", "2036-02-29T00:00"]),
    ("0 9 * * mon-fri", "2026-11-27T10:00", ["2026-11-30T09:00", "2026-12-01T09:00", "2026-12-02T09:00"]),
    ("0 0 1,15 feb-mar *", "2026-11-01T00:00", ["2027-02-01T00:00", "2027-02-15T00:00", "2027-03-01T00:00"]),
]


@pytest.mark.parametrize(("expr", "after", "expected"), CASES)
def test_next_instants(expr: str, after: str, expected: list[str]) -> None:
    parsed = cron.parse(expr)
    got = [iso(t) for t in itertools.islice(parsed.instants_after(ts(after)), 3)]
    assert got == expected


def test_an_instant_is_strictly_after_the_start() -> None:
    assert iso(cron.parse("0 0 * * *").next_after(ts("2026-11-23T00:00"))) == "2026-11-24T00:00"


@pytest.mark.parametrize(
    ("expr", "day_or"),
    [("0 0 */2 * 1", False), ("0 0 13 * 5", True), ("0 0 * * 1", False), ("0 0 1 * *", False),
     ("0 0 1 * */2", False), ("@weekly", False)],
)
def test_day_rule_is_chosen_per_expression(expr: str, day_or: bool) -> None:
    assert cron.parse(expr).day_or is day_or


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("0 0 31 2 *", "can never fire"),
        ("0 0 30 2 *", "can never fire"),
        ("0 0 31 4,6,9,11 *", "can never fire"),
        ("0 0 * *", "exactly 5 fields, got 4"),
        ("0 0 * * * *", "exactly 5 fields, got 6"),
        ("", "exactly 5 fields, got 0"),
        ("@reboot", "unknown cron alias"),
        ("61 * * * *", "minute value 61 out of range 0-59"),
        ("0 24 * * *", "hour value 24 out of range"),
        ("0 0 0 * *", "day of month value 0 out of range"),
        ("0 0 * 13 *", "month value 13 out of range"),
        ("0 0 * * 8", "day of week value 8 out of range"),
        ("0 0 L * *", "bad day of month value 'l'"),
        ("0 0 * * 1#2", "bad day of week field"),
        ("0 0 ? * *", "bad day of month field"),
        ("5-1 * * * *", "start after end"),
        ("*/0 * * * *", "bad minute step"),
        ("0 0 * foo *", "bad month value 'foo'"),
    ],
)
def test_invalid_expressions(expr: str, reason: str) -> None:
    with pytest.raises(cron.CronSyntaxError, match=reason.replace("?", r"\?")):
        cron.parse(expr)


def test_both_days_restricted_can_still_fire_on_the_weekday() -> None:
    # Feb 31 never exists, but with both fields restricted Mondays in February match.
    parsed = cron.parse("0 0 31 2 1")
    assert iso(parsed.next_after(ts("2026-11-01T00:00"))) == "2027-02-01T00:00"
