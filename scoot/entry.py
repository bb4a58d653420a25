"""The `scoot` console script: the one place where errors become exit codes.

A `schedule run --ticks 1` with nothing due is answered here without importing
click or reading the config (see scoot.fasttick); everything else goes through the
click CLI.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from scoot.fasttick import try_fast_tick

    done = try_fast_tick(args)
    if done is not None:
        return done
    return run_cli(args)


def run_cli(args: list[str]) -> int:
    import click

    from scoot.cli import cli
    from scoot.errors import ExitCode, ScootError

    try:
        result = cli.main(args, prog_name="scoot", standalone_mode=False)
    except ScootError as e:
        print(e.message if e.bare else f"scoot: {e.message}", file=sys.stderr)
        return e.exit_code
    except click.exceptions.Exit as e:
        return int(e.exit_code)
    except click.ClickException as e:
        e.show()
        return int(e.exit_code)
    except click.Abort:
        print("scoot: aborted", file=sys.stderr)
        return int(ExitCode.FAILURE)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `scoot schedule list | head`: the reader left; not an error of ours.
        sys.stderr.close()
        return int(ExitCode.OK)
    return int(result or 0)
