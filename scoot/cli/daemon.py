from __future__ import annotations

import click

from scoot.errors import ScootError


@click.group("daemon")
def command() -> None:
    """(not implemented yet)"""
    raise ScootError("scoot daemon is not implemented yet")
