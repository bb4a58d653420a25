"""launchd property lists for one home, built with plistlib (never a text template).

plistlib escapes `&`, `<` and `>`, writes real booleans and integers, and refuses
what XML cannot carry; `render` is pure and only the CLI writes the file.
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass
from typing import Any, Literal

from scoot.config import Config
from scoot.errors import ScootError
from scoot.units.common import UnitFile, period, stop_grace
from scoot.units.escape import check_value
from scoot.units.names import check_name

Kind = Literal["daemon", "timer"]
KINDS: tuple[Kind, ...] = ("daemon", "timer")
LABEL_PREFIX = "io.scoot."


@dataclass(frozen=True)
class Agent:
    """What to render: the home, the scoot that runs it, the label's name part.

    Both kinds share the label `io.scoot.<name>`: one home is run one way at a time,
    and installing the other kind replaces the first.
    """

    scoot: str
    home: str
    name: str
    kind: Kind = "daemon"
    every: int | None = None

    @property
    def label(self) -> str:
        return LABEL_PREFIX + self.name

    @property
    def file_name(self) -> str:
        return f"{self.label}.plist"


def _absolute(value: str, what: str) -> str:
    # launchd runs no shell: `~` and `$VAR` would reach scoot literally.
    check_value(value, what)
    if not value.startswith("/"):
        raise ScootError(f"{what} {value!r} must be an absolute path")
    return value


def properties(agent: Agent, config: Config) -> dict[str, Any]:
    """The plist as a dict (what `render` serialises)."""
    check_name(agent.name)
    scoot = _absolute(agent.scoot, "path of scoot")
    home = _absolute(agent.home, "home")
    logs = home.rstrip("/") + "/logs"
    stem = "daemon" if agent.kind == "daemon" else "tick"
    plist: dict[str, Any] = {
        "Label": agent.label,
        "EnvironmentVariables": {"SCOOT_HOME": home},
        # Also for the timer: the first tick comes at load, not one interval later.
        "RunAtLoad": True,
        "ProcessType": "Background",
        "ExitTimeOut": stop_grace(config),
        "StandardOutPath": f"{logs}/{stem}.stdout.log",
        "StandardErrorPath": f"{logs}/{stem}.stderr.log",
    }
    if agent.kind == "daemon":
        plist["ProgramArguments"] = [scoot, "daemon", "run"]
        plist["KeepAlive"] = {"SuccessfulExit": False}
    else:
        plist["ProgramArguments"] = [scoot, "schedule", "run", "--ticks", "1"]
        plist["StartInterval"] = period(config, agent.every)
    return plist


def render(agent: Agent, config: Config) -> list[UnitFile]:
    try:
        data = plistlib.dumps(properties(agent, config), fmt=plistlib.FMT_XML, sort_keys=True)
    except (ValueError, TypeError) as e:  # a control character plistlib cannot encode
        raise ScootError(f"cannot write the launchd plist for {agent.home!r}: {e}") from None
    return [UnitFile(agent.file_name, data.decode("utf-8"))]
