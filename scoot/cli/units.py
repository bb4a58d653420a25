from __future__ import annotations

import click

from scoot.errors import ScootError


@click.group("units")
def command() -> None:
    """(not implemented yet)"""
    raise ScootError("scoot units is not implemented yet")
