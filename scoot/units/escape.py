"""Escaping for systemd unit files, one named function per kind of setting.

systemd reads a setting's value in up to three passes, and each setting type uses a
different subset, which is why one generic "quote" function is wrong somewhere:

1. specifiers (`%h`, `%i`, …) are expanded in almost every setting: `%` must be `%%`;
2. `Exec*=` and `Environment=` split the value into words, honouring double quotes and
   C escapes (`\\\\`, `\\"`, `\\t`, `\\x01`);
3. `Exec*=` alone expands `$VAR` and `${VAR}` in its arguments when the command
   runs: `$` must be `$$` there, while in `Environment=` (and in the program path)
   a `$$` would stay two dollars.

A line that ends in `\\` continues on the next line, and a value cannot span lines, so
line breaks are refused rather than escaped. See systemd.syntax(7), systemd.service(5).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scoot.errors import ScootError

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# What a C escape can stand for inside a quoted systemd word; everything else below
# 0x20 (and DEL) is written as \xNN.
_NAMED_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\t": "\\t", "\v": "\\v"}


def check_value(value: str, what: str = "value") -> str:
    """Refuse what no unit file or plist can carry: line breaks, NUL, non-UTF-8 text.

    A line break would end the setting (and whatever follows would be read as a new
    one); a NUL cannot reach a process through argv or the environment; a path that
    is not valid UTF-8 (decoded by Python with surrogate escapes) cannot be written
    into a UTF-8 unit file.
    """
    if "\n" in value or "\r" in value:
        raise ScootError(f"{what} {value!r} contains a line break, which a unit file cannot hold")
    if "\0" in value:
        raise ScootError(f"{what} {value!r} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ScootError(f"{what} {value!r} is not valid UTF-8") from None
    return value


def _quoted_word(value: str, specifiers: bool = False) -> str:
    """The C-escaped, double-quoted body shared by `Exec*=` and `Environment=` words."""
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "%" and not specifiers:
            out.append("%%")
        elif ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def exec_arg(value: str) -> str:
    """One argument of an `Exec*=` command line, quoted so systemd passes it verbatim.

    Quoting every argument also neutralises a lone `;` (which would otherwise start
    a second command) and a trailing `\\` (which would join the next line).
    """
    check_value(value, "argument")
    return _quoted_word(value).replace("$", "$$")


_UNSAFE_PROGRAM = re.compile(r"[\x00-\x1f\x7f\"'\\]")


def exec_program(path: str) -> str:
    """The program of an `Exec*=` line: an absolute path, quoted, `%` doubled.

    Unlike the arguments, systemd takes the program path as is after unquoting: it
    expands no `$` there (a `$$` would stay two dollars and name another file), and it
    refuses a path holding quotes, backslashes or control characters outright
    ("Executable name contains special characters"), however they are escaped.
    """
    check_value(path, "path of the program")
    if not path.startswith("/"):
        raise ScootError(f"the program {path!r} must be an absolute path")
    bad = _UNSAFE_PROGRAM.search(path)
    if bad:
        raise ScootError(
            f"systemd cannot run a program whose path contains {bad.group()!r}: {path!r} "
            "(install scoot elsewhere, or point a symlink at it)"
        )
    return _quoted_word(path)


def exec_line(argv: Iterable[str]) -> str:
    """A whole `Exec*=` value: the program, then every argument quoted."""
    program, *args = list(argv) or [""]
    return " ".join([exec_program(program), *(exec_arg(a) for a in args)])


def check_env_name(name: str) -> str:
    """A variable name systemd accepts; it drops others with only a log line."""
    if not ENV_NAME.fullmatch(name):
        raise ScootError(
            f"invalid environment variable name {name!r} "
            "(letters, digits and _, not starting with a digit)"
        )
    return name


def environment_assignment(name: str, value: str, *, specifiers: bool = False) -> str:
    """`"NAME=value"` for `Environment=`: quoted and C-escaped, `%` doubled, `$` kept.

    systemd never expands `$` in `Environment=`, so doubling it would put two dollar
    signs into the process's environment. `specifiers=True` keeps `%` for a value
    that uses specifiers on purpose (the `%i` of the shipped template units).
    """
    check_env_name(name)
    check_value(value, f"value of {name}")
    return _quoted_word(f"{name}={value}", specifiers)


def specifier_text(value: str, what: str = "value", *, specifiers: bool = False) -> str:
    """A value for settings that take text as is apart from specifiers.

    `Description=`, `WorkingDirectory=` and other path settings neither unquote nor
    unescape, so only `%` needs doubling; a trailing `\\` cannot be escaped there
    (it would join the next line) and is refused.
    """
    check_value(value, what)
    if value.endswith("\\"):
        raise ScootError(f"{what} {value!r} ends with a backslash, which would join the next line")
    return value if specifiers else value.replace("%", "%%")
