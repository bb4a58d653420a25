"""Five-field UTC cron expressions with Debian's (Vixie) day rule.

Syntax is checked here, field by field, so that what Scoot accepts does not depend
on the croniter release installed (Debian 12 ships 1.3.5; PyPI has 7.x, and they
accept different extensions such as `L`, `#` and six fields). croniter computes the
instants; it is imported only when an instant is actually needed.

The day rule: when either day field starts with `*` (`*/2` included) a day must
match both fields; when both are restricted, either may match. croniter decides
"restricted" by the expanded values, not by the leading `*`, so Scoot never
leaves the choice to it: every expression is computed with `day_or=False`.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, MONTHS, 1),
    _Field("day of week", 0, 7, DAYS, 0),  # 7 is Sunday too, as in Debian's cron
)

_ITEM = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/([0-9]+))?$")
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # Feb 29 exists in leap years


class CronSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class CronExpr:
    text: str  # as the operator wrote it
    fields: tuple[str, ...]  # five fields, aliases expanded
    values: tuple[frozenset[int], ...]  # the values each field allows
    day_or: bool  # both day fields restricted: either matches

    @property
    def expanded(self) -> str:
        return " ".join(self.fields)

    def both_days_restricted_warning(self) -> str:
        return (
            f"cron \"{self.text}\" restricts both day of month and day of week: "
            "it fires on days matching either (Debian cron rule)"
        )

    def instants_after(self, after: float) -> Iterator[float]:
        """Every instant strictly after `after` (epoch seconds), in order."""
        streams = [_instants(expr, after) for expr in self._and_expressions()]
        previous = None
        for instant in heapq.merge(*streams):
            if instant != previous:  # a day matching both fields appears in both streams
                yield instant
                previous = instant

    def _and_expressions(self) -> list[str]:
        """Expressions whose days must match both fields, together equal to this one.

        The OR rule is the union of "day of month matches" and "day of week matches".
        croniter's own OR mode (`day_or=True`) gives up on `0 0 31 2 1` in 1.3.5,
        so Scoot always asks croniter for AND streams and merges them itself.
        """
        m, h, dom, mon, dow = self.fields
        if not self.day_or:
            return [self.expanded]
        exprs = [f"{m} {h} * {mon} {dow}"]
        if _some_month_has_a_day(self.values[2], self.values[3]):
            exprs.append(f"{m} {h} {dom} {mon} *")
        return exprs

    def next_after(self, after: float) -> float | None:
        """The first instant strictly after `after`, or None when there is none."""
        return next(self.instants_after(after), None)


def _instants(expr: str, after: float) -> Iterator[float]:
    from croniter import (
        CroniterBadDateError,
        croniter,  # heavy: only when an instant is needed
    )

    it: Any = croniter(expr, datetime.fromtimestamp(after, UTC), day_or=False)
    while True:
        try:
            yield float(it.get_next(float))
        except CroniterBadDateError:
            return  # croniter found no further match within its search horizon


def _value(token: str, field: _Field) -> int:
    if token.isdigit():
        n = int(token)
    elif token in field.names:
        n = field.names.index(token) + field.name_base
    else:
        raise CronSyntaxError(f"bad {field.name} value {token!r}")
    if not field.low <= n <= field.high:
        raise CronSyntaxError(f"{field.name} value {n} out of range {field.low}-{field.high}")
    return n


def _expand(text: str, field: _Field) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        m = _ITEM.match(item)
        if not m:
            raise CronSyntaxError(f"bad {field.name} field {text!r}")
        star, first, last, step_text = m.groups()
        if star:
            low, high = field.low, field.high
        else:
            low = _value(first, field)
            high = _value(last, field) if last is not None else low
            if step_text is not None and last is None:
                high = field.high  # `5/15` means 5-max/15, as in croniter and cronie
        if low > high:
            raise CronSyntaxError(f"bad {field.name} range {item!r} (start after end)")
        step = int(step_text) if step_text is not None else 1
        if step == 0:
            raise CronSyntaxError(f"bad {field.name} step in {item!r}")
        values.update(range(low, high + 1, step))
    if field.name == "day of week" and 7 in values:
        values = (values - {7}) | {0}
    return frozenset(values)


def parse(text: str) -> CronExpr:
    """Parse and validate; raises CronSyntaxError with the reason."""
    raw = text.strip().lower()
    if raw.startswith("@"):
        if raw not in ALIASES:
            raise CronSyntaxError(f"unknown cron alias {text.strip()!r}")
        raw = ALIASES[raw]
    fields = tuple(raw.split())
    if len(fields) != 5:
        raise CronSyntaxError(f"cron needs exactly 5 fields, got {len(fields)}")
    values = tuple(_expand(f, spec) for f, spec in zip(fields, FIELDS, strict=True))
    dom_star = fields[2].startswith("*")
    dow_star = fields[4].startswith("*")
    expr = CronExpr(text.strip(), fields, values, day_or=not (dom_star or dow_star))
    if not expr.day_or and not _some_month_has_a_day(values[2], values[3]):
        raise CronSyntaxError("can never fire (none of its days exists in its months)")
    return expr


def _some_month_has_a_day(days: frozenset[int], months: frozenset[int]) -> bool:
    # With the AND rule a day of week is always reachable within a few years, so an
    # expression can never fire only when none of its days exists in its months.
    return any(day <= DAYS_IN_MONTH[month - 1] for month in months for day in days)
