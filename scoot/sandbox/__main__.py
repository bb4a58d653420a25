"""``python -I -m scoot.sandbox --scratch DIR --report-fd N [--best-effort] -- ARGV...``

Applies the readonly layers to this process, writes one JSON report to fd N, closes
every other descriptor and execs ARGV. Any failure of a required layer exits 126 before
ARGV runs. See docs/SECURITY.md for what each layer stops.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REFUSED = 126  # the goal did not run
USAGE = (
    "usage: python -I -m scoot.sandbox --scratch DIR --report-fd N [--best-effort]"
    " -- ARGV..."
)


class UsageError(Exception):
    pass


@dataclass
class Options:
    scratch: str
    report_fd: int
    best_effort: bool
    command: list[str]


def parse_args(argv: Sequence[str]) -> Options:
    # Hand-rolled rather than argparse: argparse exits 2 on errors, and the wrapper
    # must answer every failure with 126 so the parent knows the goal never ran.
    if "--" not in argv:
        raise UsageError("missing '--' before the command")
    split = list(argv).index("--")
    opts, command = list(argv[:split]), list(argv[split + 1:])
    scratch: str | None = None
    report_fd: int | None = None
    best_effort = False
    i = 0
    while i < len(opts):
        name = opts[i]
        if name == "--best-effort":
            best_effort = True
            i += 1
            continue
        if name not in ("--scratch", "--report-fd") or i + 1 >= len(opts):
            raise UsageError(f"unexpected argument {name!r}")
        value = opts[i + 1]
        if name == "--scratch":
            scratch = value
        else:
            try:
                report_fd = int(value)
            except ValueError:
                raise UsageError(f"--report-fd needs a number, not {value!r}") from None
        i += 2
    if scratch is None or report_fd is None:
        raise UsageError("--scratch and --report-fd are required")
    if report_fd < 3:
        raise UsageError("--report-fd must be 3 or more (0-2 belong to the goal)")
    if not command:
        raise UsageError("no command after '--'")
    return Options(scratch, report_fd, best_effort, command)


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


def _write_report(fd: int, data: bytes) -> None:
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _layer(outcome: Outcome, name: str, *, required: bool, best_effort: bool,
           step: Callable[[], None]) -> bool:
    """Apply one layer, recording it; raise Refused if a required one fails."""
    try:
        step()
    except Exception as exc:  # any failure, ctypes errors included, must refuse
        if required and not best_effort:
            raise Refused(f"{name}: {_one_line(exc)}") from exc
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


def _exec(command: list[str], scratch: Path) -> int:
    # Nothing the parent left open (a log, a lock, the home's database) may reach the
    # goal: Landlock checks rights at open time, so an inherited writable fd would
    # bypass it entirely.
    os.closerange(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 65536)
    os.chdir(scratch)
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"scoot-sandbox: cannot run {command[0]!r}: {exc.strerror}", file=sys.stderr)
        # Same codes as a shell; the report already said the sandbox itself was fine.
        return 127 if isinstance(exc, FileNotFoundError) else 126
    return 0  # unreachable: execvp does not return on success


def main(argv: Sequence[str] | None = None) -> int:
    try:
        opts = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"scoot-sandbox: {exc}\n{USAGE}", file=sys.stderr)
        return REFUSED

    outcome = Outcome()
    darwin = sys.platform == "darwin"
    try:
        scratch = Path(os.path.realpath(opts.scratch))
        if not scratch.is_dir():
            raise Refused(f"scratch: {opts.scratch} is not an existing directory")
        try:
            (scratch / "tmp").mkdir(exist_ok=True)  # TMPDIR for the goal
        except OSError as exc:
            raise Refused(f"scratch: cannot create tmp/: {exc.strerror}") from exc
        if darwin:
            from scoot.sandbox import seatbelt

            if not os.access(seatbelt.SANDBOX_EXEC, os.X_OK):
                raise Refused(f"seatbelt: {seatbelt.SANDBOX_EXEC} is missing")
            outcome.layers.append("seatbelt")
            command = seatbelt.sandbox_exec_argv(opts.command, str(scratch))
        elif sys.platform.startswith("linux"):
            apply_linux(scratch, opts.best_effort, outcome)
            command = opts.command
        else:
            raise Refused(f"platform: no sandbox for {sys.platform}")
    except Refused as exc:
        reason = _one_line(exc)
        print(f"scoot-sandbox: refused: {reason}", file=sys.stderr)
        try:
            _write_report(opts.report_fd, outcome.report(ok=False, reason=reason))
        except OSError:
            pass  # the parent reads "ended before reporting", which also refuses
        return REFUSED

    try:
        _write_report(opts.report_fd, outcome.report(ok=True))
    except OSError as exc:
        # Without a report the parent cannot record what protected the run.
        print(f"scoot-sandbox: refused: report fd {opts.report_fd}: {exc.strerror}",
              file=sys.stderr)
        return REFUSED
    return _exec(command, scratch)


if __name__ == "__main__":
    sys.exit(main())
