from __future__ import annotations

from scoot.errors import ScootError
from scoot.home import RuntimeHome


def run_goal(home: RuntimeHome, goal: str, mode: str | None) -> int:
    raise ScootError("scoot -e is not implemented yet")
