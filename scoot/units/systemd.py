"""systemd service and timer units for one home, rendered from Jinja2 templates.

`render` is pure: it returns the files' names and text; only the CLI writes them.
Every value that comes from outside (the home, the path of scoot) goes through the
named functions of `scoot.units.escape` before it reaches a template.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scoot.config import Config
from scoot.errors import ScootError
from scoot.units.common import UnitFile, period, stop_grace
from scoot.units.escape import environment_assignment, exec_line, specifier_text
from scoot.units.names import check_name

Scope = Literal["user", "system"]
Kind = Literal["daemon", "timer"]
SCOPES: tuple[Scope, ...] = ("user", "system")
KINDS: tuple[Kind, ...] = ("daemon", "timer")

# Hardening, per scope. Both units run the jobs, and a job inherits every
# restriction of its unit: nothing here may take away what an `unrestricted` job is
# promised, nor what the per-run sandbox needs (it creates namespaces and installs
# its own seccomp and Landlock rules). So no NoNewPrivileges (breaks sudo in a job),
# RestrictSUIDSGID (breaks a job installing packages), RestrictNamespaces or
# SystemCallFilter (break the sandbox), ProtectSystem/ProtectHome/PrivateTmp (hide
# or freeze what a job may be meant to change).
#
# User units get none at all: the namespace-based directives do nothing there on
# systemd 252 (or fail with 226/NAMESPACE), and a user manager lacks CAP_SYS_ADMIN,
# so every seccomp-based one (LockPersonality, RestrictRealtime,
# SystemCallArchitectures, …) silently implies NoNewPrivileges=yes.
# System units run as root, where those three stand alone and cost a job nothing it
# plausibly needs (switching personality, realtime scheduling, foreign-architecture
# system calls). docs/UNITS.md explains how to add more with a drop-in.
HARDENING: dict[Scope, tuple[str, ...]] = {
    "user": (),
    "system": (
        "LockPersonality=yes",
        "RestrictRealtime=yes",
        "SystemCallArchitectures=native",
    ),
}
WANTED_BY: dict[Scope, str] = {"user": "default.target", "system": "multi-user.target"}


@dataclass(frozen=True)
class Target:
    """What to render: for which home, running which scoot, under which names.

    `template` renders the instance-template units (`<name>@.service`, …) that
    packages ship; their `home` uses specifiers (`%i`) on purpose and is written
    with `%` intact.
    """

    scoot: str
    home: str
    name: str
    scope: Scope = "user"
    kind: Kind = "daemon"
    every: int | None = None
    template: bool = False
    state_directory: str = ""  # StateDirectory= (relative to /var/lib), system units only

    def unit(self, base: str, suffix: str) -> str:
        return f"{base}@{suffix}" if self.template else f"{base}{suffix}"


def file_names(target: Target) -> list[str]:
    """The names of the files `render` produces for `target`, in the same order."""
    if target.kind == "daemon":
        return [target.unit(target.name, ".service")]
    tick = f"{target.name}-tick"
    return [target.unit(tick, ".service"), target.unit(tick, ".timer")]


def enable_unit(target: Target) -> str:
    """The unit `systemctl enable --now` starts: the daemon, or the tick's timer."""
    return file_names(target)[-1]


def install_dir(scope: Scope, environ: Mapping[str, str]) -> Path:
    """Where `--install` puts units: the user manager's config folder or /etc."""
    if scope == "system":
        return Path("/etc/systemd/system")
    # The XDG spec ignores a relative XDG_CONFIG_HOME; so does systemd.
    config = environ.get("XDG_CONFIG_HOME", "")
    base = Path(config) if os.path.isabs(config) else Path.home() / ".config"
    return base / "systemd" / "user"


def render(target: Target, config: Config) -> list[UnitFile]:
    import jinja2

    check_name(target.name)
    if target.state_directory and target.scope != "system":
        raise ScootError("StateDirectory= is only used in system units")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("scoot.units", "templates/systemd"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # unit files are not markup; escape.py does the escaping
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    specifiers = target.template

    def description(what: str) -> str:
        # The home sits inside parentheses: a home ending in `\` must not end the line.
        return specifier_text(f"{what} ({target.home})", "home", specifiers=specifiers)

    common = {
        "system": target.scope == "system",
        "environment": environment_assignment("SCOOT_HOME", target.home, specifiers=specifiers),
        "state_directory": target.state_directory,
        "stop_sec": stop_grace(config),
        "hardening": HARDENING[target.scope],
    }
    names = file_names(target)
    if target.kind == "daemon":
        text = env.get_template("daemon.service").render(
            common,
            description=description("Scoot daemon"),
            exec_start=exec_line([target.scoot, "daemon", "run"]),
            watchdog_sec=config.watchdog_sec,
            wanted_by=WANTED_BY[target.scope],
        )
        return [UnitFile(names[0], text)]
    service = env.get_template("tick.service").render(
        common,
        description=description("Scoot tick"),
        exec_start=exec_line([target.scoot, "schedule", "run", "--ticks", "1"]),
        timer=names[1],
    )
    timer = env.get_template("tick.timer").render(
        description=description("Scoot tick timer"),
        period=period(config, target.every),
    )
    return [UnitFile(names[0], service), UnitFile(names[1], timer)]
