"""The click face of Scoot: parse, call the library, print. Nothing imports it."""

from __future__ import annotations

import click

from scoot import __version__
from scoot.cli.common import Context, example
from scoot.home import resolve_home
from scoot.modes import MODES


@click.group(
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=example(
        "scoot setup",
        'scoot -e "df -h /" --mode readonly',
        "scoot --scoot-home /srv/scoot/web schedule list",
    ),
)
@click.option(
    "--scoot-home",
    metavar="DIR",
    help="Runtime home (default: $SCOOT_HOME, then ~/.scoot).",
)
@click.option("-e", "goal", metavar="GOAL", help="Run GOAL now and exit with its status.")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    help="Execution mode of -e (default: policy.mode of the config).",
)
@click.version_option(__version__, "--version", prog_name="scoot", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, scoot_home: str | None, goal: str | None, mode: str | None) -> int:
    """Run unattended jobs on a schedule, safely."""
    ctx.obj = Context(resolve_home(scoot_home))
    if goal is not None:
        if ctx.invoked_subcommand is not None:
            raise click.UsageError("-e cannot be combined with a command")
        from scoot.cli.exec import run_goal

        return run_goal(ctx.obj.home, goal, mode)
    if mode is not None:
        raise click.UsageError("--mode applies only to -e")
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
    return 0


def _register() -> None:
    from scoot.cli import daemon, doctor, schedule, sessions, setup, units

    for module in (setup, schedule, daemon, sessions, units, doctor):
        cli.add_command(module.command)


_register()
