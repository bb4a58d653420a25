"""`scoot -e GOAL [--mode M]`: run one goal now, stream it, exit with its status."""

from __future__ import annotations

import sys

import click

from scoot.cli.common import load_config
from scoot.config import Config
from scoot.errors import ExitCode, ScootError
from scoot.home import RuntimeHome
from scoot.modes import GUARDED, PROMPT, exec_mode


def _config(home: RuntimeHome) -> Config:
    # -e works on a home with no config yet (defaults apply); a config that exists
    # but cannot be used is an error (78), never silently replaced by defaults.
    if not home.config.exists():
        return Config(path=home.config)
    return load_config(home)


def _ask() -> bool:
    click.echo(f"{PROMPT} ", nl=False, err=True)
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run_goal(home: RuntimeHome, goal: str, mode: str | None) -> int:
    from scoot.audit import AuditLog
    from scoot.runs import Run, RunRequest, wait_in_foreground

    if not goal.strip():
        raise ScootError("-e needs a non-empty goal", ExitCode.USAGE)
    config = _config(home)
    requested = mode or config.policy_mode
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    approve = _ask() if terminal and requested == GUARDED else None
    effective = exec_mode(requested, approve=approve if terminal else None)
    home.ensure_folders()
    sys.stdout.flush()
    request = RunRequest(
        home=home,
        goal=goal,
        job_id=None,
        trigger="exec",
        scheduled_for=None,
        requested_mode=requested,
        effective_mode=effective,
        command=config.runner_command,
        timeout_sec=config.runner_timeout_sec,
        output_max_bytes=config.output_max_bytes,
        env=config.runner_env,
        best_effort=config.policy_sandbox == "best-effort",
        interactive=terminal,
        tee=sys.stdout.buffer,
    )
    run = Run(request, audit=AuditLog(home.audit_log))
    run.start()
    wait_in_foreground(run)
    if run.status == "refused":
        raise ScootError(f"refused: {run.record.get('reason')}", ExitCode.REFUSED)
    return run.exit_status()
