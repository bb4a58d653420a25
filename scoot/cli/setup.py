from __future__ import annotations

import click

from scoot.cli.common import Context, example, pass_home
from scoot.home import resolve_home
from scoot.provision import setup


@click.command(
    "setup",
    epilog=example("scoot --scoot-home /srv/scoot/web setup", "scoot setup --force"),
)
@click.option("--force", is_flag=True, help="Rewrite the config (keeping a timestamped backup).")
@pass_home
def command(obj: Context, force: bool) -> int:
    """Provision the runtime home: folders, a commented config.toml."""
    result = setup(obj.home, force=force)
    home = result.home
    click.echo(f"Scoot home: {home.root}")
    if result.backup is not None:
        click.echo(f"Previous config kept as {result.backup}")
    if result.created_config:
        click.echo(f"Wrote {home.config} (schedule disabled)")
    else:
        click.echo(f"Kept existing {home.config}")
    flag = "" if resolve_home(None) == home else f" --scoot-home {home.root}"
    click.echo("Next steps:")
    click.echo(f"  1. add jobs to {home.config} and set [schedule] enabled = true")
    click.echo(f"  2. check them:       scoot{flag} schedule list")
    click.echo(f"  3. run them:         scoot{flag} daemon run")
    click.echo(f"     or from a timer:  scoot{flag} units systemd --kind timer --install --enable")
    return 0
