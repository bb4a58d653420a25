"""The `scoot` console script: the one place where errors become exit codes.

Two invocations skip the click CLI:
- a `schedule run --ticks 1` with nothing due is answered without importing click
  or reading the config (see scoot.fasttick): it runs on every timer tick;
- `daemon run [--ticks N]` runs for months: without click and the other commands'
  modules it keeps about 7 MB less resident (SPEC §13 budgets the idle daemon at
  20 MB). Anything else on such a line (`--help`, a bad value) goes to click,
  which then parses and reports it as usual.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from scoot.fasttick import try_fast_tick

    done = try_fast_tick(args)
    if done is not None:
        return done
    from scoot.errors import ScootError

    try:
        daemon_run = _plain_daemon_run(args)
        if daemon_run is not None:
            return _daemon_run(*daemon_run)
        return run_cli(args)
    except ScootError as e:
        print(e.message if e.bare else f"scoot: {e.message}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130


def _plain_daemon_run(args: list[str]) -> tuple[str | None, int] | None:
    """(home option, N) of a plain `[--scoot-home DIR] daemon run [--ticks N]`, else None."""
    from scoot.fasttick import split_home

    option, rest = split_home(args)
    if rest[:2] != ["daemon", "run"]:
        return None
    tail = rest[2:]
    if len(tail) == 1 and tail[0].startswith("--ticks="):
        tail = ["--ticks", tail[0].split("=", 1)[1]]
    if not tail:
        return option, 0
    if len(tail) == 2 and tail[0] == "--ticks" and tail[1].isascii() and tail[1].isdigit():
        return option, int(tail[1])
    return None


def _daemon_run(option: str | None, ticks: int) -> int:
    from scoot import daemon
    from scoot.home import resolve_home
    from scoot.notices import load_config

    home = resolve_home(option)
    return daemon.run(home, load_config(home), ticks, sys.stderr)


def run_cli(args: list[str]) -> int:
    import click

    from scoot.cli import cli
    from scoot.errors import ExitCode

    try:
        result = cli.main(args, prog_name="scoot", standalone_mode=False)
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        e.show()
        return int(e.exit_code)
    except click.Abort:
        print("scoot: aborted", file=sys.stderr)
        return int(ExitCode.FAILURE)
    except BrokenPipeError:
        # `scoot schedule list | head`: the reader left; not an error of ours.
        sys.stderr.close()
        return int(ExitCode.OK)
    return int(result or 0)
