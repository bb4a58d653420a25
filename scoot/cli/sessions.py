from __future__ import annotations

import click

from scoot.errors import ScootError


@click.group("sessions")
def command() -> None:
    """(not implemented yet)"""
    raise ScootError("scoot sessions is not implemented yet")
