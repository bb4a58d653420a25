"""Lines for the operator on stderr: warnings, and the config loaded with its problems.

Free of click, so the daemon (which runs for months) does not carry the CLI
framework just to print a warning (see scoot.entry).
"""

from __future__ import annotations

import sys

from scoot.config import Config, load
from scoot.home import RuntimeHome


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
