"""`scoot units systemd|launchd`: render this home's units, print, write or install them.

Rendering is scoot.units (pure); this module is the only one that writes unit files
and runs systemctl/launchctl.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from scoot.atomic import write_atomic
from scoot.cli.common import Context, example, load_config, pass_home, warn
from scoot.config import Config
from scoot.errors import ScootError
from scoot.home import RuntimeHome
from scoot.units.common import UnitFile

KINDS = ("daemon", "timer")
UNIT_MODE = 0o644  # systemd and launchd expect unit files readable, not executable


@click.group("units", epilog=example(
    "scoot units systemd --user --kind timer --install --enable",
    "scoot units launchd --output ~/plists",
))
def command() -> None:
    """Write systemd units or launchd plists that run this home."""


def _common_options(f: click.decorators.FC) -> click.decorators.FC:
    # Applied innermost first: --help lists them as SPEC §10 orders them.
    f = click.option("--output", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
                     help="Write the files into DIR instead of printing them.")(f)
    f = click.option("--every", type=click.IntRange(min=1), metavar="SEC",
                     help="Timer period in seconds (default: poll_ms rounded up).")(f)
    f = click.option("--name", metavar="NAME",
                     help="Base name of the units (default: scoot, or scoot-<home folder>).")(f)
    f = click.option("--kind", type=click.Choice(KINDS), default="daemon", show_default=True,
                     help="daemon: `scoot daemon run` supervised; timer: `schedule run "
                          "--ticks 1` every few seconds.")(f)
    return f


def _check_usage(kind: str, every: int | None, output: Path | None, install: bool) -> None:
    if every is not None and kind != "timer":
        raise click.UsageError("--every applies only to --kind timer")
    if output is not None and install:
        raise click.UsageError("--output and --install exclude each other")


def _prepare(home: RuntimeHome, name: str | None) -> tuple[Config, str, str]:
    """The config (exit 78 when unusable), the checked name, the path of scoot."""
    from scoot.units.names import check_name, default_name, running_scoot

    config = load_config(home)
    if not config.schedule_enabled:
        warn(f"schedule is disabled: the units will exit 78 until you set "
             f"[schedule] enabled = true in {config.path}")
    return config, check_name(name) if name else default_name(home.root), running_scoot(sys.argv[0])


@command.command("systemd", epilog=example(
    "scoot units systemd",
    "scoot units systemd --user --kind timer --every 60 --install --enable",
    "sudo scoot --scoot-home /srv/scoot/web units systemd --system --install --enable",
))
@click.option("--user", "scope", flag_value="user",
              help="A user unit (default unless run as root).")
@click.option("--system", "scope", flag_value="system",
              help="A system unit (default when run as root).")
@_common_options
@click.option("--install", is_flag=True,
              help="Write into the unit folder and run systemctl daemon-reload.")
@click.option("--enable", is_flag=True, help="With --install: also systemctl enable --now.")
@pass_home
def systemd_(obj: Context, scope: str | None, kind: str, name: str | None, every: int | None,
             output: Path | None, install: bool, enable: bool) -> int:
    """systemd units for this home: NAME.service, or NAME-tick.service and .timer."""
    from scoot.units import systemd

    _check_usage(kind, every, output, install)
    if enable and not install:
        raise click.UsageError("--enable needs --install")
    if scope is None:
        scope = "system" if os.geteuid() == 0 else "user"
    config, unit_name, scoot = _prepare(obj.home, name)
    target = systemd.Target(scoot=scoot, home=str(obj.home.root), name=unit_name,
                            scope="system" if scope == "system" else "user",
                            kind="timer" if kind == "timer" else "daemon", every=every)
    files = systemd.render(target, config)
    if not install:
        return _emit(files, output)
    folder = systemd.install_dir(target.scope, os.environ)
    _write(files, folder, "installed")
    systemctl = ["systemctl"] if target.scope == "system" else ["systemctl", "--user"]
    _run([*systemctl, "daemon-reload"], f"installed into {folder}, but")
    if enable:
        unit = systemd.enable_unit(target)
        _run([*systemctl, "enable", "--now", unit], f"installed into {folder}, but")
        click.echo(f"enabled and started {unit}")
    else:
        click.echo(f"next: {' '.join(systemctl)} enable --now {systemd.enable_unit(target)}")
    if target.scope == "user":
        click.echo("note: user units run only while you are logged in, unless "
                   "`loginctl enable-linger` is set for your user")
    return 0


@command.command("launchd", epilog=example(
    "scoot units launchd",
    "scoot units launchd --kind timer --every 60 --output ~/plists",
    "scoot units launchd --install   # macOS only",
))
@_common_options
@click.option("--install", is_flag=True,
              help="macOS: write into ~/Library/LaunchAgents and launchctl bootstrap it.")
@pass_home
def launchd_(obj: Context, kind: str, name: str | None, every: int | None,
             output: Path | None, install: bool) -> int:
    """A launchd plist for this home, labelled io.scoot.NAME."""
    from scoot.units import launchd

    _check_usage(kind, every, output, install)
    if install and sys.platform != "darwin":
        raise ScootError(
            f"--install needs macOS (launchctl), this is {sys.platform}: "
            "print the plist or write it with --output DIR"
        )
    config, unit_name, scoot = _prepare(obj.home, name)
    agent = launchd.Agent(scoot=scoot, home=str(obj.home.root), name=unit_name,
                          kind="timer" if kind == "timer" else "daemon", every=every)
    files = launchd.render(agent, config)
    if not install:
        return _emit(files, output)
    folder = Path.home() / "Library" / "LaunchAgents"
    _write(files, folder, "installed")
    domain = f"gui/{os.getuid()}"
    # A loaded job of the same label (an earlier install, or the other kind) must go
    # first: bootstrap refuses a label that is already loaded.
    subprocess.run(["launchctl", "bootout", f"{domain}/{agent.label}"],
                   capture_output=True, check=False)
    _run(["launchctl", "bootstrap", domain, str(folder / agent.file_name)],
         f"installed into {folder}, but")
    click.echo(f"loaded {agent.label} into {domain}")
    return 0


def _emit(units: Sequence[UnitFile], output: Path | None) -> int:
    if output is not None:
        _write(units, output, "wrote")
        return 0
    for i, unit in enumerate(units):
        if i:
            click.echo("")
        click.echo(f"# {unit.name}")
        click.echo(unit.text, nl=False)
    return 0


def _write(units: Sequence[UnitFile], folder: Path, verb: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for unit in units:
            path = folder / unit.name
            write_atomic(path, unit.text, mode=UNIT_MODE)
            os.chmod(path, UNIT_MODE)  # whatever the umask made of it
            click.echo(f"{verb} {path}")
    except OSError as e:
        raise ScootError(f"cannot write into {folder}: {e.strerror}") from None


def _run(argv: list[str], context: str) -> None:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ScootError(f"{context} {argv[0]} is not installed") from None
    if r.returncode != 0:
        detail = (r.stderr or r.stdout).strip().splitlines()
        why = detail[-1] if detail else f"exit status {r.returncode}"
        raise ScootError(f"{context} `{' '.join(argv)}` failed: {why}")
