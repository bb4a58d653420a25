"""What every command shares: the resolved home, config loading, warning lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from scoot.home import RuntimeHome
from scoot.notices import load_config, warn

__all__ = ["Context", "echo_json", "example", "home_of", "load_config", "pass_home", "warn"]


@dataclass
class Context:
    home: RuntimeHome


def home_of(ctx: click.Context) -> RuntimeHome:
    obj = ctx.find_object(Context)
    assert obj is not None, "the root group always sets a Context"
    return obj.home


pass_home = click.make_pass_decorator(Context)


def example(*lines: str) -> str:
    """An epilog click keeps verbatim (the \\b marker stops its rewrapping)."""
    return "\b\nExample:\n" + "\n".join(f"  {line}" for line in lines)


def echo_json(obj: Any) -> None:
    import json

    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))
