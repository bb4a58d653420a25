"""The Linux layers, applied in order to the calling process.

Shared by the wrapper (``__main__``) and by ``probe``, which runs the very same
sequence in a forked child to learn what this host can enforce.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


class Refused(Exception):
    """A required layer could not be applied; the message names it and says why."""


@dataclass
class Outcome:
    layers: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    landlock_abi: int | None = None

    def report(self, *, ok: bool, reason: str | None = None) -> bytes:
        body: dict[str, object] = {"ok": ok}
        if reason is not None:
            body["reason"] = reason
        body.update(layers=self.layers, missing=self.missing,
                    landlock_abi=self.landlock_abi)
        return json.dumps(body).encode() + b"\n"


def write_report(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _layer(outcome: Outcome, name: str, *, required: bool, best_effort: bool,
           step: Callable[[], None]) -> bool:
    """Apply one layer, recording it; raise Refused if a required one fails."""
    try:
        step()
    except Exception as exc:  # any failure, ctypes errors included, must refuse
        if required and not best_effort:
            raise Refused(f"{name}: {one_line(exc)}") from exc
        outcome.missing.append(name)
        return False
    outcome.layers.append(name)
    return True


def apply_linux(scratch: Path, best_effort: bool, outcome: Outcome) -> None:
    from scoot.sandbox import landlock, namespaces, privileges, seccomp

    as_root = os.geteuid() == 0
    in_userns = False

    def mount_layer() -> None:
        nonlocal in_userns
        if not as_root:
            # Commit to a user namespace only once a throwaway child showed the whole
            # sequence works; a half-entered one would leave us without an identity.
            why = namespaces.trial_in_child(
                lambda: namespaces.enter_mount_namespace(scratch, as_root=False))
            if why is not None:
                raise OSError(f"user namespaces unavailable: {why}")
            namespaces.enter_user_namespace()
            in_userns = True
        namespaces.unshare(namespaces.CLONE_NEWNS)
        namespaces.make_root_readonly(scratch)

    # Without privilege the mount layer is optional (SPEC §7); as root it is the only
    # thing that stops setuid planting, so it is required.
    _layer(outcome, "mountns", required=as_root, best_effort=best_effort, step=mount_layer)

    def net_layer() -> None:
        if not (as_root or in_userns):
            raise OSError("needs root or a user namespace")
        namespaces.enter_network_namespace()

    _layer(outcome, "netns", required=False, best_effort=best_effort, step=net_layer)
    _layer(outcome, "nnp", required=True, best_effort=best_effort,
           step=privileges.drop_capabilities_and_set_nnp)

    abi = landlock.abi_version()
    outcome.landlock_abi = abi or None

    def landlock_layer() -> None:
        if abi < landlock.MIN_ABI:
            found = f"ABI {abi}" if abi else "not available"
            raise OSError(f"Landlock ABI {landlock.MIN_ABI} or later required, kernel has "
                          f"{found}")
        landlock.restrict(scratch, abi)

    _layer(outcome, "landlock", required=True, best_effort=best_effort,
           step=landlock_layer)

    def seccomp_layer() -> None:
        arch = seccomp.current_arch()
        if arch is None:
            raise OSError(f"no filter for architecture {os.uname().machine}")
        seccomp.install(arch)

    _layer(outcome, "seccomp", required=True, best_effort=best_effort, step=seccomp_layer)
