#!/usr/bin/env python3
"""Render scoot(1) from the program's own `--help` output, so the man page cannot drift.

Usage: manpage.py [--output FILE] -- COMMAND [ARG...]

COMMAND runs the program to document (e.g. `python3 debian/scoot/usr/bin/scoot`). The
root help and every subcommand's help (found by walking the "Commands:" sections) go
into the page verbatim, as preformatted blocks: click has already laid them out, and
re-flowing them would only lose the alignment of option tables. Standard library only,
so it runs in a Debian build with nothing but python3.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence


def run_help(program: Sequence[str], path: Sequence[str]) -> str:
    result = subprocess.run(
        [*program, *path, "--help"], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        where = " ".join(["scoot", *path])
        raise SystemExit(f"manpage.py: `{where} --help` failed: {result.stderr.strip()}")
    return result.stdout


def subcommands(help_text: str) -> list[str]:
    """Names listed in click's "Commands:" section (two-space indent, then the name)."""
    names: list[str] = []
    inside = False
    for line in help_text.splitlines():
        if line.strip() == "Commands:":
            inside = True
            continue
        if inside:
            if not line.startswith("  ") or not line.strip():
                break
            # A name longer than click's column sits alone with its text on the next
            # line, indented further; skip those continuation lines.
            if line.startswith("   "):
                continue
            names.append(line.split()[0])
    return names


def walk(program: Sequence[str], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    text = run_help(program, path)
    pages = [(path, text)]
    for name in subcommands(text):
        pages.extend(walk(program, (*path, name)))
    return pages


def escape(line: str) -> str:
    """Make one line of text literal for roff: backslashes, hyphens, leading dots."""
    line = line.replace("\\", "\\e").replace("-", "\\-")
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def block(text: str) -> list[str]:
    return [".nf", *(escape(line) for line in text.rstrip("\n").splitlines()), ".fi"]


def summary(root_help: str) -> str:
    """The root command's first description line, as a NAME section wants it."""
    lines = root_help.splitlines()
    for line in lines[1:]:
        if line.strip():
            text = line.strip().rstrip(".")
            return text[:1].lower() + text[1:]
    return "job scheduler"


def render(version: str, pages: list[tuple[tuple[str, ...], str]], epoch: float) -> str:
    date = time.strftime("%Y-%m-%d", time.gmtime(epoch))
    root_help = pages[0][1]
    out = [
        f'.TH SCOOT 1 "{date}" "scoot {escape(version)}" "User Commands"',
        ".SH NAME",
        f"scoot \\- {escape(summary(root_help))}",
        ".SH SYNOPSIS",
        ".B scoot",
        "[\\fB\\-\\-scoot\\-home\\fR \\fIDIR\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
        ".br",
        ".B scoot",
        '\\fB\\-e\\fR \\fIGOAL\\fR [\\fB\\-\\-mode\\fR \\fIMODE\\fR]',
        ".SH DESCRIPTION",
        *block(root_help),
        ".SH COMMANDS",
        "Each command's own help, as printed by",
        ".BR \"scoot \\fICOMMAND\\fB \\-\\-help\" .",
    ]
    for path, text in pages[1:]:
        out.append(f'.SS "scoot {" ".join(path)}"')
        out.extend(block(text))
    out += [
        ".SH ENVIRONMENT",
        ".TP",
        ".B SCOOT_HOME",
        "The runtime home, unless \\fB\\-\\-scoot\\-home\\fR is given; the default is",
        ".IR ~/.scoot .",
        ".SH SEE ALSO",
        ".BR systemctl (1),",
        ".BR systemd.timer (5);",
        "the guides in",
        ".IR /usr/share/doc/scoot/ .",
    ]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", "-o", help="write here instead of stdout")
    parser.add_argument("program", nargs="+", help="the command that runs scoot")
    args = parser.parse_args(argv)
    version = subprocess.run(
        [*args.program, "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    if len(version) != 2:
        raise SystemExit("manpage.py: `scoot --version` did not print `scoot VERSION`")
    epoch = float(os.environ.get("SOURCE_DATE_EPOCH") or time.time())
    page = render(version[1], walk(args.program), epoch)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(page)
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
