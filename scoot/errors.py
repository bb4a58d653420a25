"""The one error type of Scoot and the exit codes it maps to (docs/EXIT-CODES.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    NOT_RUNNING = 3  # `daemon status`: a state is recorded but no daemon runs
    NO_STATE = 4  # `daemon status`: nothing recorded
    BUSY = 75  # another scheduler or daemon holds the home (EX_TEMPFAIL)
    REFUSED = 77  # refused by policy (EX_NOPERM)
    CONFIG = 78  # configuration error (EX_CONFIG)


class ScootError(Exception):
    """An error meant for the operator: one line of text and an exit code.

    Raised anywhere in the library; the CLI turns it into `scoot: <message>` on
    stderr (or the message alone when `bare` is set, for lines the spec words
    exactly) and exits with `exit_code`.
    """

    def __init__(
        self, message: str, exit_code: int = ExitCode.FAILURE, *, bare: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = int(exit_code)
        self.bare = bare


class ConfigError(ScootError):
    """The config cannot be used at all (not a single skipped job: those are warnings)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"config error: {message}", ExitCode.CONFIG)
