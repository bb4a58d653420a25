"""Execution modes and how a requested mode becomes the effective one (SPEC §7)."""

from __future__ import annotations

READONLY = "readonly"
GUARDED = "guarded"
UNRESTRICTED = "unrestricted"
MODES = (READONLY, GUARDED, UNRESTRICTED)

PROMPT = "Allow this goal to write files and use the network? [y/N]"


def scheduled_mode(requested: str) -> str:
    """Nobody is there to approve a scheduled run: guarded becomes readonly."""
    return READONLY if requested == GUARDED else requested


def exec_mode(requested: str, *, approve: bool | None) -> str:
    """Effective mode of a `scoot -e` run.

    `approve` is the person's answer to PROMPT, or None when no terminal was there
    to ask (then guarded is coerced to readonly, as for scheduled jobs).
    """
    if requested != GUARDED:
        return requested
    return UNRESTRICTED if approve else READONLY


def mode_label(requested: str, effective: str) -> str:
    """`readonly (guarded)` when a request was coerced, else the mode itself."""
    return effective if requested == effective else f"{effective} ({requested})"
