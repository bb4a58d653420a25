from __future__ import annotations

import click

from scoot.errors import ScootError


@click.group("doctor")
def command() -> None:
    """(not implemented yet)"""
    raise ScootError("scoot doctor is not implemented yet")
