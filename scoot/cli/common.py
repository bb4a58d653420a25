"""What every command shares: the resolved home, config loading, warning lines."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import click

from scoot.config import Config, load
from scoot.home import RuntimeHome


@dataclass
class Context:
    home: RuntimeHome


def home_of(ctx: click.Context) -> RuntimeHome:
    obj = ctx.find_object(Context)
    assert obj is not None, "the root group always sets a Context"
    return obj.home


pass_home = click.make_pass_decorator(Context)


def warn(message: str) -> None:
    print(f"[scoot] warning: {message}", file=sys.stderr)


def load_config(home: RuntimeHome) -> Config:
    """Load the home's config, printing its warnings (skipped jobs, unknown keys)."""
    loaded = load(home.config)
    for line in loaded.warnings:
        warn(line)
    for job in loaded.config.invalid:
        warn(job.warning)
    return loaded.config


def example(*lines: str) -> str:
    """An epilog click keeps verbatim (the \\b marker stops its rewrapping)."""
    return "\b\nExample:\n" + "\n".join(f"  {line}" for line in lines)


def echo_json(obj: Any) -> None:
    import json

    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))
