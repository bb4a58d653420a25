"""`scoot sessions list|show`: what ran, when, how it ended."""

from __future__ import annotations

import click

from scoot import sessions
from scoot.cli.common import Context, echo_json, example, pass_home
from scoot.errors import ScootError


@click.group("sessions", epilog=example("scoot sessions list -n 5", "scoot sessions show ID"))
def command() -> None:
    """List and inspect the sessions (one per run) of the home."""


@command.command("list", epilog=example("scoot sessions list --job disk-check --json"))
@click.option("--job", "job_id", metavar="ID", help="Only the sessions of job ID.")
@click.option("-n", "count", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_home
def list_(obj: Context, job_id: str | None, count: int, as_json: bool) -> int:
    """The newest sessions first: id, job, trigger, mode, status, start (UTC)."""
    records = sessions.list_sessions(obj.home, job=job_id, limit=count)
    if as_json:
        echo_json(records)
        return 0
    if not records:
        click.echo("(no sessions)")
        return 0
    lines = [("ID", "JOB", "TRIGGER", "MODE", "STATUS", "STARTED")]
    for r in records:
        status = str(r.get("status"))
        if r.get("signal") is not None:
            status += f" (signal {r['signal']})"
        elif r.get("exit_code") not in (None, 0):
            status += f" ({r['exit_code']})"
        lines.append((str(r.get("id")), str(r.get("job") or "-"), str(r.get("trigger")),
                      str(r.get("effective_mode")), status, str(r.get("started_at"))))
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    for line in lines:
        cells = [c.ljust(w) for c, w in zip(line, widths, strict=False)]
        click.echo("  ".join([*cells, line[5]]))
    return 0


@command.command("show", epilog=example("scoot sessions show 20261201T000000Z-disk-check-a1b2c3"))
@click.argument("session_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print session.json only.")
@pass_home
def show(obj: Context, session_id: str, as_json: bool) -> int:
    """One session's record, then its captured output."""
    record = sessions.read(obj.home, session_id)
    if record is None:
        raise ScootError(f'no session "{session_id}" in {obj.home.sessions}')
    if as_json:
        echo_json(record)
        return 0
    width = max(len(k) for k in record)
    for key, value in record.items():
        shown = "null" if value is None else (
            ", ".join(value) if isinstance(value, list) else str(value).lower()
            if isinstance(value, bool) else str(value))
        click.echo(f"{key.ljust(width)}  {shown}")
    log = obj.home.session_dir(session_id) / "output.log"
    click.echo(f"--- {log}")
    try:
        click.echo(log.read_bytes().decode(errors="replace"), nl=False)
    except FileNotFoundError:
        click.echo("(no output.log)")
    return 0
