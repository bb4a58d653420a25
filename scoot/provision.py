"""`scoot setup`: make a directory a runtime home (SPEC §3, §8)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from scoot.atomic import write_atomic
from scoot.errors import ExitCode, ScootError
from scoot.home import DIR_MODE, RuntimeHome

DEFAULT_CONFIG = """\
# Scoot runtime home configuration. Every key is optional; the values shown are the
# defaults. Reference: docs/CONFIGURATION.md.

[schedule]
# Autonomy is off until an operator turns it on: `schedule run` and `daemon run`
# refuse to start while this is false.
enabled = false
# The longest the loop sleeps between two cycles, in milliseconds. Jobs still start
# at their own instant; this bounds how late a config change or a stop is noticed.
poll_ms = 1000

[policy]
# Mode of `scoot -e` runs given no --mode: "readonly", "guarded" or "unrestricted".
mode = "guarded"
# "required": a readonly run that the host cannot confine is refused.
# "best-effort": it runs with the layers the host has, and the session says which
# were missing.
sandbox = "required"

[runner]
# The program that receives each goal as its one last argument.
command = ["/bin/sh", "-c"]
# Default limit of a run, in seconds: then SIGTERM, and SIGKILL 10 s later.
timeout_sec = 3600
# Cap on the output a session keeps in output.log, in bytes.
output_max_bytes = 1048576
# Extra environment for every run.
# env = { LANG = "C.UTF-8" }

[daemon]
# Grace, in seconds, for running runs when the daemon or a loop is asked to stop.
stop_timeout_sec = 30
# WatchdogSec= of the generated systemd daemon units (0: no watchdog).
watchdog_sec = 30

# A job: an id, a goal, exactly one trigger, and a mode.
# [[schedule.jobs]]
# id = "disk-check"              # unique; letters, digits, "_", ".", "-"
# goal = "df -h /"               # handed to runner.command as its last argument
# every_sec = 300                # or: at_unix = 1796083200, or: cron = "0 3 * * *" (UTC)
# mode = "readonly"              # "readonly" (default), "guarded" or "unrestricted"
# timeout_sec = 60               # overrides runner.timeout_sec
# enabled = true                 # false keeps the job configured but never fires it
# env = { DF_FLAGS = "-h" }      # extra environment for this job's runs
# workdir = "/srv/app"           # where the goal runs (default: the run's scratch/)
"""

# Entries a home may hold; a non-empty folder with anything else is not a home.
HOME_ENTRIES = frozenset({"config.toml", "logs", "state"})


@dataclass(frozen=True)
class SetupResult:
    home: RuntimeHome
    created_config: bool
    backup: Path | None


def setup(home: RuntimeHome, *, force: bool = False, now: float | None = None) -> SetupResult:
    """Provision `home`; idempotent, and never loses an existing config."""
    root = home.root
    if root.exists() and not root.is_dir():
        raise ScootError(f"{root} exists and is not a folder", ExitCode.FAILURE)
    if root.is_dir() and not force:
        foreign = sorted(
            name
            for name in os.listdir(root)
            if name not in HOME_ENTRIES and not name.startswith("config.toml.bak-")
        )
        if foreign:
            raise ScootError(
                f"{root} is not empty and is not a Scoot home (found {foreign[0]!r}); "
                "use --force to provision it anyway",
                ExitCode.FAILURE,
            )
    root.parent.mkdir(parents=True, exist_ok=True)
    home.ensure_folders()
    # Tighten what exists as well: a home shared with other users is a home leaked.
    for folder in home.folders:
        os.chmod(folder, DIR_MODE)
    backup = None
    created = False
    if home.config.exists():
        if force:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
            backup = home.config.with_name(f"config.toml.bak-{stamp}")
            n = 1
            while backup.exists():
                n += 1
                backup = home.config.with_name(f"config.toml.bak-{stamp}-{n}")
            os.link(home.config, backup)
            write_atomic(home.config, DEFAULT_CONFIG)
            created = True
        else:
            os.chmod(home.config, 0o600)
    else:
        write_atomic(home.config, DEFAULT_CONFIG)
        created = True
    return SetupResult(home, created, backup)
