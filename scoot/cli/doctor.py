from __future__ import annotations

import click

from scoot.cli.common import Context, echo_json, example, pass_home
from scoot.doctor import FAIL, diagnose, installed_unit_checks


@click.command(
    "doctor", epilog=example("scoot doctor", "scoot --scoot-home /srv/scoot/web doctor --json")
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@pass_home
def command(obj: Context, as_json: bool) -> int:
    """What this host can enforce, and whether the home, its config and units are sound.

    Exits 1 when a check fails (for example readonly runs cannot be confined here
    while policy.sandbox is "required"), 0 otherwise.
    """
    from scoot.sandbox.probe import probe

    checks = diagnose(obj.home, probe=probe, units=installed_unit_checks)
    if as_json:
        echo_json(
            {
                "home": str(obj.home.root),
                "checks": [c.as_json() for c in checks],
                "ok": not any(c.status == FAIL for c in checks),
            }
        )
    else:
        for c in checks:
            click.echo(f"{c.status:<5} {c.topic}: {c.detail}")
    return 1 if any(c.status == FAIL for c in checks) else 0
