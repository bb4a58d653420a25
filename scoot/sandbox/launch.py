"""Parent side of the sandbox: build the wrapper's argv and environment, read its report.

The scheduler spawns ``wrapper_argv(...)`` with a pipe's write end as ``report_fd``
(passed through ``pass_fds``) and ``confine_env(...)`` as the environment, then reads
the pipe to EOF and hands the bytes to ``parse_report``. A report that is not ``ok``
means the goal never ran (the wrapper exits 126).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

NO_REPORT = "sandbox wrapper ended before reporting"

# Variables that would hand the goal a channel out of the sandbox: an agent or bus
# socket, a container daemon, or a proxy it could be told to use.
_SCRUBBED = frozenset({
    "ssh_auth_sock", "dbus_session_bus_address", "docker_host",
    "http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy",
})


class Unsupported(Exception):
    """This platform has no sandbox at all; the message says why."""


@dataclass(frozen=True)
class Report:
    ok: bool
    layers: tuple[str, ...]
    missing: tuple[str, ...]
    landlock_abi: int | None
    reason: str | None


def wrapper_argv(
    command: Sequence[str], *, scratch: Path, best_effort: bool, report_fd: int,
    gate_fd: int | None = None,
) -> list[str]:
    """The argv that runs ``command`` confined to ``scratch`` through the wrapper.

    With ``gate_fd`` the confined wrapper waits at that gate before it execs (see
    scoot.sandbox.gate).
    """
    if not (sys.platform.startswith("linux") or sys.platform == "darwin"):
        raise Unsupported(f"no readonly sandbox on {sys.platform}")
    if not command:
        raise ValueError("empty command")
    argv = [sys.executable, "-I", "-m", "scoot.sandbox",
            "--scratch", str(scratch), "--report-fd", str(report_fd)]
    if best_effort:
        argv.append("--best-effort")
    if gate_fd is not None:
        argv += ["--gate-fd", str(gate_fd)]
    return [*argv, "--", *command]


def gated_argv(command: Sequence[str], gate_fd: int) -> list[str]:
    """The argv that holds an unconfined ``command`` at the gate ``gate_fd``.

    The same protocol as scoot.sandbox.gate, in /bin/sh: a small shell wakes and
    execs in about half the time a Python interpreter needs (measured here: 0.75 ms
    against 1.5 ms from the release to the goal's first instruction).
    """
    # Through /dev/fd: a POSIX shell's redirections take single-digit descriptors
    # only. The goal inherits the read end of the gate, which by then carries nothing.
    script = f'read -r go < /dev/fd/{gate_fd} && [ "$go" = 1 ] || exit 125; exec "$@"'
    return ["/bin/sh", "-c", script, "scoot-gate", *command]


def confine_env(env: Mapping[str, str], scratch: Path) -> dict[str, str]:
    """``env`` with HOME and TMPDIR inside scratch and outward channels removed.

    The wrapper creates ``scratch/tmp`` before the goal starts.
    """
    out = {k: v for k, v in env.items() if k.lower() not in _SCRUBBED}
    out["HOME"] = str(scratch)
    out["TMPDIR"] = str(scratch / "tmp")
    return out


def _str_tuple(value: object) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def parse_report(data: bytes) -> Report:
    """Decode the wrapper's report; anything unreadable counts as a refusal."""
    refused = Report(False, (), (), None, NO_REPORT)
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return refused
    if not isinstance(obj, dict) or not isinstance(obj.get("ok"), bool):
        return refused
    layers = _str_tuple(obj.get("layers", []))
    missing = _str_tuple(obj.get("missing", []))
    abi = obj.get("landlock_abi")
    reason = obj.get("reason")
    if (layers is None or missing is None
            or not (abi is None or (isinstance(abi, int) and not isinstance(abi, bool)))
            or not (reason is None or isinstance(reason, str))):
        return refused
    if not obj["ok"] and not reason:
        reason = "sandbox refused without giving a reason"
    return Report(obj["ok"], layers, missing, abi, reason)
