"""Unit names and the path of the `scoot` that units run."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from scoot.errors import ExitCode, ScootError
from scoot.units.escape import check_value

# A subset of what systemd allows in unit names ([A-Za-z0-9:_.\\-]): no `:` and no
# `\`, so a name is also a plain launchd label, file name and shell word.
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
# Room for `-tick.service` and launchd's `io.scoot.` prefix within systemd's 255.
MAX_NAME = 200
_FOLDER_PART = 64


def default_name(home: Path) -> str:
    """`scoot` for a home folder named `.scoot`, `scoot-<folder name>` otherwise.

    Characters a unit name cannot hold become `_`; when any had to be replaced (or the
    name was shortened) a short hash of the real folder name is appended, so that
    `my home` and `my_home` still get different units.
    """
    folder = home.name
    if folder == ".scoot":
        return "scoot"
    safe = _UNSAFE.sub("_", folder)[:_FOLDER_PART]
    if safe != folder:
        digest = hashlib.sha256(os.fsencode(folder)).hexdigest()[:6]
        safe = f"{safe}-{digest}"
    return f"scoot-{safe}"


def check_name(name: str) -> str:
    """A `--name` that works as a systemd unit name, a launchd label and a file name."""
    if not _NAME.fullmatch(name) or len(name) > MAX_NAME or name.startswith("."):
        raise ScootError(
            f"invalid unit name {name!r}: use up to {MAX_NAME} letters, digits, "
            '"_", "." and "-", not starting with "."',
            ExitCode.USAGE,
        )
    return name


def running_scoot(argv0: str) -> str:
    """The absolute path of the `scoot` console script that is running now.

    `sys.argv[0]` of a console script is the script itself: the kernel hands the
    path it executed to the interpreter, even when the shell found it through PATH.
    It is made absolute but symlinks are deliberately kept: Homebrew's stable
    `opt/scoot/bin/scoot` and a venv's `bin/scoot` must survive an upgrade, which
    their resolved (versioned) targets would not. `shutil.which("scoot")` is only the
    fallback (e.g. under `python -m`), because the first `scoot` on PATH may be
    another installation than the one generating the unit.
    """
    candidate = os.path.abspath(argv0) if argv0 else ""
    if not (candidate and os.path.basename(candidate) == "scoot" and _is_executable(candidate)):
        found = shutil.which("scoot")
        if found is None:
            raise ScootError("cannot find the `scoot` executable to put into the unit")
        candidate = os.path.abspath(found)
    check_value(candidate, "path of scoot")
    return candidate


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)
