"""`scoot daemon run|status|stop`: parse, call scoot.daemon, print."""

from __future__ import annotations

import sys

import click

from scoot.cli.common import Context, echo_json, example, load_config, pass_home


@click.group(
    "daemon",
    epilog=example("scoot daemon run", "scoot daemon status", "scoot daemon stop --timeout 60"),
)
def command() -> None:
    """Run the scheduler as a long-lived daemon; query or stop it."""


@command.command(
    "run", epilog=example("scoot daemon run", "scoot daemon run --ticks 10")
)
@click.option("--ticks", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
              help="Stop after N cycles (0 = run until SIGTERM/SIGINT).")
@pass_home
def run(obj: Context, ticks: int) -> int:
    """Run the tick loop in the foreground with pid/state files and sd_notify.

    One daemon per home: a second one is refused (exit 75). SIGTERM/SIGINT stop it
    cleanly, SIGHUP re-reads the config. Meant to be supervised by systemd or
    launchd; it never forks into the background.
    """
    from scoot import daemon

    return daemon.run(obj.home, load_config(obj.home), ticks, sys.stderr)


@command.command("status", epilog=example("scoot daemon status", "scoot daemon status --json"))
@click.option("--json", "as_json", is_flag=True, help="Print daemon.json plus liveness as JSON.")
@pass_home
def status(obj: Context, as_json: bool) -> int:
    """The recorded daemon state and whether its process is really alive.

    Exit status: 0 running, 3 not running (stopped, or a stale record), 4 no state.
    """
    from scoot import daemon

    ins = daemon.inspect(obj.home)
    if as_json:
        echo_json(ins.as_json())
    else:
        click.echo(ins.summary())
    return ins.exit_code


@command.command("stop", epilog=example("scoot daemon stop", "scoot daemon stop --timeout 5"))
@click.option("--timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              metavar="SEC", help="How long to wait for the daemon to stop before exit 1.")
@pass_home
def stop(obj: Context, timeout: float) -> int:
    """Send SIGTERM to this home's daemon (only if verified) and wait for it to stop."""
    from scoot import daemon

    return daemon.stop(obj.home, timeout, click.echo)
