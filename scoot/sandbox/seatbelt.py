"""macOS: the readonly policy as a Seatbelt profile for ``/usr/bin/sandbox-exec``.

The profile is a constant with one parameter, ``SCRATCH``, filled in by sandbox-exec's
``-D`` option, so no path is ever spliced into the profile's text (and nothing needs
escaping). sandbox-exec is called by absolute path so a ``PATH`` entry cannot stand in
for it.
"""

from __future__ import annotations

from collections.abc import Sequence

SANDBOX_EXEC = "/usr/bin/sandbox-exec"
SCRATCH_PARAM = "SCRATCH"


def profile() -> str:
    """The Seatbelt profile for a readonly run (pure; unit-tested for its text)."""
    rules = [
        "(version 1)",
        # Start from nothing; everything the goal may do is listed below.
        "(deny default)",
        "(allow process-exec process-fork)",
        # Only processes inside this same sandbox can be signalled.
        "(allow signal (target same-sandbox))",
        # Reads are not confidential in readonly mode; they are just not exportable.
        "(allow file-read*)",
        "(allow sysctl-read)",
        f'(allow file-write* (subpath (param "{SCRATCH_PARAM}")))',
        '(allow file-write-data (literal "/dev/null"))',
        # Explicit even under deny default, so a later allow cannot reopen it by accident.
        "(deny network*)",
    ]
    return "\n".join(rules) + "\n"


def sandbox_exec_argv(command: Sequence[str], scratch_realpath: str) -> list[str]:
    """argv that runs ``command`` under the profile with scratch writable.

    ``scratch_realpath`` must already be resolved: Seatbelt matches real paths, and on
    macOS ``/tmp`` is really ``/private/tmp``.
    """
    return [SANDBOX_EXEC, "-p", profile(), "-D", f"{SCRATCH_PARAM}={scratch_realpath}",
            "--", *command]
