"""Hold a started run at its gate until its instant: `python -I -m scoot.sandbox.gate FD -- ARGV`.

The scheduler starts a job's process shortly before the job is due (process start-up
and, for readonly runs, the sandbox layers take milliseconds) and holds it here. At
the instant it writes one byte to the gate and the process execs at once. Closing
the gate without that byte (the scheduler gave the run up, or died) ends the process
before the goal runs. Stdlib only: it runs in front of every goal, confined or not.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

CANCELLED = 125  # the gate was closed without a release: the goal never ran
RELEASE = b"1\n"  # a line, so a shell can wait at the same gate (launch.gated_argv)


def wait(fd: int) -> bool:
    """Block until the gate opens (True) or is given up (False); closes `fd` either way."""
    try:
        while True:
            try:
                data = os.read(fd, 1)
                break
            except InterruptedError:
                continue
    except OSError:
        data = b""
    finally:
        os.close(fd)
    return data == RELEASE[:1]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[1] != "--" or not args[0].isdigit():
        print("usage: python -I -m scoot.sandbox.gate FD -- ARGV...", file=sys.stderr)
        return CANCELLED
    if not wait(int(args[0])):
        return CANCELLED
    command = args[2:]
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"scoot: cannot run {command[0]!r}: {exc.strerror}", file=sys.stderr)
        return 127 if isinstance(exc, FileNotFoundError) else 126
    return 0  # unreachable


if __name__ == "__main__":
    sys.exit(main())
