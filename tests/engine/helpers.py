"""What the engine tests read back: audit events and session records."""

from __future__ import annotations

import json
from typing import Any

from scoot.audit import read_events
from scoot.home import RuntimeHome


def events(home: RuntimeHome, name: str | None = None) -> list[dict[str, Any]]:
    return [e for e in read_events(home.audit_log) if name is None or e["event"] == name]


def all_sessions(home: RuntimeHome) -> list[dict[str, Any]]:
    if not home.sessions.exists():
        return []
    out = []
    for folder in sorted(home.sessions.iterdir()):
        path = folder / "session.json"
        if path.exists():
            out.append(json.loads(path.read_text()))
    return out


def job(job_id: str, goal: str, trigger: str = "every_sec = 3600", *,
        mode: str = "unrestricted", extra: str = "") -> str:
    goal_toml = json.dumps(goal)
    return (f'[[schedule.jobs]]\nid = "{job_id}"\ngoal = {goal_toml}\n{trigger}\n'
            f'mode = "{mode}"\n{extra}\n')
