from __future__ import annotations

import time

import click

from scoot.cli.common import Context, echo_json, example, load_config, pass_home
from scoot.config import Config
from scoot.errors import ExitCode, ScootError
from scoot.listing import next_times, rows
from scoot.state import load_schedule
from scoot.timeutil import iso_utc


@click.group("schedule", epilog=example("scoot schedule list", "scoot schedule run --ticks 1"))
def command() -> None:
    """List, preview and run the configured jobs."""


@command.command("list", epilog=example("scoot schedule list", "scoot schedule list --json"))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_home
def list_(obj: Context, as_json: bool) -> int:
    """Every configured job in config order: trigger, mode, state, next fire (UTC)."""
    config = load_config(obj.home)
    table = rows(config, load_schedule(obj.home), time.time())
    if as_json:
        echo_json({
            "home": str(obj.home.root),
            "schedule_enabled": config.schedule_enabled,
            "jobs": [r.as_json() for r in table],
        })
        return 0
    lines = [("ID", "TRIGGER", "MODE", "STATE", "NEXT")]
    for r in table:
        status = "ACTIVE" if r.active else "INACTIVE"
        detail = iso_utc(r.next_fire) if r.next_fire is not None else (r.reason or "")
        lines.append((r.id, r.trigger, r.mode, status, detail))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    for line in lines:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        click.echo("  ".join([*cells, line[4]]).rstrip())
    if not config.jobs and not config.invalid:
        click.echo(f"(no jobs: add [[schedule.jobs]] to {config.path})")
    return 0


@command.command("next", epilog=example("scoot schedule next", "scoot schedule next backup -n 5"))
@click.argument("job_id", metavar="[ID]", required=False)
@click.option("-n", "count", type=click.IntRange(1, 10000), default=1, show_default=True,
              help="How many fire times per job.")
@pass_home
def next_(obj: Context, job_id: str | None, count: int) -> int:
    """The next N fire times (UTC) of each active job, or of job ID."""
    config = load_config(obj.home)
    state = load_schedule(obj.home)
    now = time.time()
    if job_id is not None:
        row = next((r for r in rows(config, state, now) if r.id == job_id), None)
        if row is None:
            raise ScootError(f'no job "{job_id}" in {config.path}')
        if not row.active:
            raise ScootError(f'job "{job_id}" is inactive: {row.reason}')
    for jid, times in next_times(config, state, now, job_id, count):
        for t in times:
            click.echo(f"{jid}  {iso_utc(t)}")
    return 0


@command.command("run", epilog=example("scoot schedule run", "scoot schedule run --ticks 1"))
@click.option("--ticks", type=click.IntRange(min=0), default=0, show_default=True,
              help="Cycles to run, then wait for the started runs and exit (0: forever).")
@pass_home
def run_(obj: Context, ticks: int) -> int:
    """Run the schedule in the foreground (needs [schedule] enabled = true)."""
    from scoot.cli.common import warn
    from scoot.loop import Scheduler

    config = load_config(obj.home)
    require_enabled(config)
    Scheduler(obj.home, config, ticks=ticks, kind="schedule", warn=warn).run()
    return 0


def require_enabled(config: Config) -> None:
    """`schedule run` and `daemon run` refuse to start while autonomy is off."""
    if not config.schedule_enabled:
        raise ScootError(
            f"[scoot] schedule is disabled: set [schedule] enabled = true in {config.path}",
            ExitCode.CONFIG, bare=True,
        )


@command.command("fire", epilog=example("scoot schedule fire disk-check"))
@click.argument("job_id", metavar="ID")
@pass_home
def fire_(obj: Context, job_id: str) -> int:
    """Run configured job ID now (trigger manual) and wait for it to end."""
    from scoot.runs import fire_job

    config = load_config(obj.home)
    run = fire_job(obj.home, config, job_id)
    click.echo(f"session {run.session_id}: {run.status}")
    if run.status == "refused":
        raise ScootError(f"run refused: {run.record.get('reason')}", ExitCode.REFUSED)
    return 0
