"""``python -I -m scoot.sandbox --scratch DIR --report-fd N [--best-effort] -- ARGV...``

Applies the readonly layers to this process, writes one JSON report to fd N, closes
every other descriptor and execs ARGV. Any failure of a required layer exits 126 before
ARGV runs. See docs/SECURITY.md for what each layer stops.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scoot.sandbox import gate
from scoot.sandbox.layers import Outcome, Refused, apply_linux, one_line, write_report

REFUSED = 126  # the goal did not run
USAGE = (
    "usage: python -I -m scoot.sandbox --scratch DIR --report-fd N [--best-effort]"
    " [--gate-fd N] -- ARGV..."
)


class UsageError(Exception):
    pass


@dataclass
class Options:
    scratch: str
    report_fd: int
    best_effort: bool
    command: list[str]
    gate_fd: int | None = None


def parse_args(argv: Sequence[str]) -> Options:
    # Hand-rolled rather than argparse: argparse exits 2 on errors, and the wrapper
    # must answer every failure with 126 so the parent knows the goal never ran.
    if "--" not in argv:
        raise UsageError("missing '--' before the command")
    split = list(argv).index("--")
    opts, command = list(argv[:split]), list(argv[split + 1:])
    scratch: str | None = None
    report_fd: int | None = None
    gate_fd: int | None = None
    best_effort = False
    i = 0
    while i < len(opts):
        name = opts[i]
        if name == "--best-effort":
            best_effort = True
            i += 1
            continue
        if name not in ("--scratch", "--report-fd", "--gate-fd") or i + 1 >= len(opts):
            raise UsageError(f"unexpected argument {name!r}")
        value = opts[i + 1]
        if name == "--scratch":
            scratch = value
        else:
            try:
                number = int(value)
            except ValueError:
                raise UsageError(f"{name} needs a number, not {value!r}") from None
            if name == "--report-fd":
                report_fd = number
            else:
                gate_fd = number
        i += 2
    if scratch is None or report_fd is None:
        raise UsageError("--scratch and --report-fd are required")
    if report_fd < 3:
        raise UsageError("--report-fd must be 3 or more (0-2 belong to the goal)")
    if not command:
        raise UsageError("no command after '--'")
    return Options(scratch, report_fd, best_effort, command, gate_fd)


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
        reason = one_line(exc)
        print(f"scoot-sandbox: refused: {reason}", file=sys.stderr)
        try:
            write_report(opts.report_fd, outcome.report(ok=False, reason=reason))
        except OSError:
            pass  # the parent reads "ended before reporting", which also refuses
        return REFUSED

    try:
        write_report(opts.report_fd, outcome.report(ok=True))
    except OSError as exc:
        # Without a report the parent cannot record what protected the run.
        print(f"scoot-sandbox: refused: report fd {opts.report_fd}: {exc.strerror}",
              file=sys.stderr)
        return REFUSED
    # Confined and reported: wait for the instant (scoot.sandbox.gate), so the layers'
    # set-up happens before it rather than making the goal late.
    if opts.gate_fd is not None and not gate.wait(opts.gate_fd):
        return gate.CANCELLED
    return _exec(command, scratch)


if __name__ == "__main__":
    sys.exit(main())
