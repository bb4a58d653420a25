"""Parent side of the sandbox wrapper (stub until the wrapper lands: fails closed)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class Unsupported(Exception):
    """This platform cannot confine a run at all."""


@dataclass(frozen=True)
class Report:
    ok: bool
    layers: tuple[str, ...]
    missing: tuple[str, ...]
    landlock_abi: int | None
    reason: str | None


def wrapper_argv(
    command: Sequence[str], *, scratch: Path, best_effort: bool, report_fd: int
) -> list[str]:
    raise Unsupported("the readonly sandbox is not available yet")


def confine_env(env: Mapping[str, str], scratch: Path) -> dict[str, str]:
    return dict(env)


def parse_report(data: bytes) -> Report:
    try:
        obj = json.loads(data)
    except ValueError:
        return Report(False, (), (), None, "sandbox wrapper ended before reporting")
    return Report(
        bool(obj.get("ok")),
        tuple(obj.get("layers", ())),
        tuple(obj.get("missing", ())),
        obj.get("landlock_abi"),
        obj.get("reason"),
    )
