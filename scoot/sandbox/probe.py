"""What this host can enforce for readonly runs, found by trying rather than guessing.

Each namespace check forks a child that performs the real sequence (unshare, id maps,
remount), because some hosts accept ``unshare`` and only fail at the next step. The
final check runs the wrapper's whole layer sequence in a child, so "enforceable" means
exactly what a real run would get.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _trial(step: Callable[[], None]) -> str | None:
    from scoot.sandbox import namespaces

    return namespaces.trial_in_child(step)


def _whole_sequence(scratch: Path) -> dict[str, Any]:
    """Apply every layer in a throwaway child; report what held and what did not."""
    import json

    from scoot.sandbox.layers import Outcome, apply_linux

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_end)
            outcome = Outcome()
            apply_linux(scratch, True, outcome)
            os.write(write_end, outcome.report(ok=not outcome.missing))
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 4096):
        data += chunk
    os.close(read_end)
    os.waitpid(pid, 0)
    try:
        result: dict[str, Any] = json.loads(data)
    except ValueError:
        return {"ok": False, "layers": [], "missing": ["all"], "landlock_abi": None}
    return result


def _probe_linux() -> dict[str, Any]:
    from scoot.sandbox import landlock, namespaces, seccomp

    as_root = os.geteuid() == 0
    scratch = Path(tempfile.mkdtemp(prefix="scoot-probe-"))
    try:
        userns_error = _trial(namespaces.enter_user_namespace)
        mount_error = _trial(
            lambda: namespaces.enter_mount_namespace(scratch, as_root=as_root))

        def netns() -> None:
            if not as_root:
                namespaces.enter_user_namespace()
            namespaces.enter_network_namespace()

        net_error = _trial(netns)
        whole = _whole_sequence(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    abi = landlock.abi_version()
    missing = list(whole.get("missing", []))
    required = {"nnp", "landlock", "seccomp"} | ({"mountns"} if as_root else set())
    enforceable = not (required & set(missing)) and bool(whole.get("layers"))
    errors = {name: err for name, err in (("user_namespaces", userns_error),
                                          ("mount_namespace", mount_error),
                                          ("network_namespace", net_error)) if err}
    return {
        "platform": sys.platform,
        "as_root": as_root,
        "landlock_abi": abi or None,
        "landlock_sufficient": abi >= landlock.MIN_ABI,
        "seccomp": seccomp.available() and seccomp.current_arch() is not None,
        "user_namespaces": userns_error is None,
        "mount_namespace": mount_error is None,
        "network_namespace": net_error is None,
        "layers": list(whole.get("layers", [])),
        "missing": missing,
        "readonly_enforceable": enforceable,
        "errors": errors,
    }


def probe() -> dict[str, Any]:
    """Facts for ``scoot doctor``; ``readonly_enforceable`` is the verdict.

    Keys on Linux: platform, as_root, landlock_abi (int or None), landlock_sufficient,
    seccomp, user_namespaces, mount_namespace, network_namespace, layers, missing,
    readonly_enforceable, errors (name -> why a probe failed). On macOS: platform,
    seatbelt, layers, missing, readonly_enforceable. Elsewhere: platform,
    readonly_enforceable False and a reason.
    """
    if sys.platform.startswith("linux"):
        return _probe_linux()
    if sys.platform == "darwin":
        from scoot.sandbox.seatbelt import SANDBOX_EXEC

        present = os.access(SANDBOX_EXEC, os.X_OK)
        return {
            "platform": sys.platform,
            "seatbelt": present,
            "layers": ["seatbelt"] if present else [],
            "missing": [] if present else ["seatbelt"],
            "readonly_enforceable": present,
        }
    return {"platform": sys.platform, "readonly_enforceable": False,
            "reason": f"no readonly sandbox on {sys.platform}"}
