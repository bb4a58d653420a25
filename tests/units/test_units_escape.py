"""The escaping functions, as a table of nasty inputs (what systemd receives is proven
against a real systemd in test_units_real_systemd.py)."""

from __future__ import annotations

import pytest

from scoot.errors import ScootError
from scoot.units.escape import (
    check_env_name,
    environment_assignment,
    exec_arg,
    exec_line,
    exec_program,
    specifier_text,
)

# value, in Exec*=, in Environment= (as K=value)
TABLE = [
    ("plain", '"plain"', '"K=plain"'),
    ("", '""', '"K="'),
    ("50%", '"50%%"', '"K=50%%"'),
    ("%h/%i", '"%%h/%%i"', '"K=%%h/%%i"'),
    ("/bin/date +%Y-%m-%d", '"/bin/date +%%Y-%%m-%%d"', '"K=/bin/date +%%Y-%%m-%%d"'),
    # `$` is expanded in Exec*= only: doubled there, never in Environment=
    ("$HOME", '"$$HOME"', '"K=$HOME"'),
    ("${USER}", '"$${USER}"', '"K=${USER}"'),
    ("$$", '"$$$$"', '"K=$$"'),
    ('say "hi"', '"say \\"hi\\""', '"K=say \\"hi\\""'),
    ("it's", '"it\'s"', '"K=it\'s"'),
    ("a\\b", '"a\\\\b"', '"K=a\\\\b"'),
    ("\\", '"\\\\"', '"K=\\\\"'),
    ("trailing\\", '"trailing\\\\"', '"K=trailing\\\\"'),
    (";", '";"', '"K=;"'),
    ("a ; b", '"a ; b"', '"K=a ; b"'),
    ("two  spaces", '"two  spaces"', '"K=two  spaces"'),
    (" lead and trail ", '" lead and trail "', '"K= lead and trail "'),
    ("tab\there", '"tab\\there"', '"K=tab\\there"'),
    ("bell\a vt\v ff\f bs\b", '"bell\\a vt\\v ff\\f bs\\b"', '"K=bell\\a vt\\v ff\\f bs\\b"'),
    ("esc\x1b[0m", '"esc\\x1b[0m"', '"K=esc\\x1b[0m"'),
    ("soh\x01 del\x7f", '"soh\\x01 del\\x7f"', '"K=soh\\x01 del\\x7f"'),
    ("déjà vu ✓ 日本 🚀", '"déjà vu ✓ 日本 🚀"', '"K=déjà vu ✓ 日本 🚀"'),
    ("all 'a' \"b\" $X %n \\ ;", '"all \'a\' \\"b\\" $$X %%n \\\\ ;"',
     '"K=all \'a\' \\"b\\" $X %%n \\\\ ;"'),
]


@pytest.mark.parametrize(("value", "in_exec", "in_env"), TABLE)
def test_exec_and_environment_quoting(value: str, in_exec: str, in_env: str) -> None:
    assert exec_arg(value) == in_exec
    assert environment_assignment("K", value) == in_env


@pytest.mark.parametrize("bad", ["a\nb", "\n", "ends\n", "cr\rlf", "nul\0", "bad \udcff byte"])
def test_line_breaks_nul_and_non_utf8_are_refused_naming_the_value(bad: str) -> None:
    for escape in (exec_arg, lambda v: environment_assignment("K", v), specifier_text):
        with pytest.raises(ScootError) as e:
            escape(bad)
        assert repr(bad) in e.value.message
        assert "\n" not in e.value.message  # one stderr line


@pytest.mark.parametrize("name", ["A", "_", "SCOOT_HOME", "a1", "_9", "lower_case"])
def test_good_environment_names(name: str) -> None:
    assert check_env_name(name) == name
    assert environment_assignment(name, "v") == f'"{name}=v"'


@pytest.mark.parametrize("name", ["", "1X", "A-B", "A B", "A=B", "É", "X.Y", "$X", "A\n"])
def test_bad_environment_names_are_refused(name: str) -> None:
    with pytest.raises(ScootError) as e:
        environment_assignment(name, "v")
    assert repr(name) in e.value.message


@pytest.mark.parametrize(("path", "quoted"), [
    ("/usr/bin/scoot", '"/usr/bin/scoot"'),
    ("/opt/my tools/scoot", '"/opt/my tools/scoot"'),
    ("/opt/50%/scoot", '"/opt/50%%/scoot"'),
    ("/opt/$X ${Y}/scoot", '"/opt/$X ${Y}/scoot"'),  # no $ expansion in the program
    ("/opt/;/scoot", '"/opt/;/scoot"'),
    ("/opt/déjà ✓/scoot", '"/opt/déjà ✓/scoot"'),
])
def test_exec_program(path: str, quoted: str) -> None:
    assert exec_program(path) == quoted


@pytest.mark.parametrize("path", ["scoot", "", "/opt/it's/scoot", '/opt/"q"/scoot',
                                  "/opt/back\\slash/scoot", "/opt/tab\t/scoot", "/opt/\n/scoot"])
def test_exec_program_refuses_what_systemd_cannot_run(path: str) -> None:
    with pytest.raises(ScootError) as e:
        exec_program(path)
    assert repr(path) in e.value.message


def test_exec_line_quotes_the_program_and_every_argument() -> None:
    assert exec_line(["/opt/my $X/scoot", "a $X", "%i", ";"]) == (
        '"/opt/my $X/scoot" "a $$X" "%%i" ";"'
    )
    with pytest.raises(ScootError):
        exec_line([])


@pytest.mark.parametrize(("value", "expected"), [
    ("/srv/scoot/web", "/srv/scoot/web"),
    ("/srv/50%/%h", "/srv/50%%/%%h"),
    ("/srv/$HOME/'q' \"dq\" \\ ✓", "/srv/$HOME/'q' \"dq\" \\ ✓"),  # taken verbatim
])
def test_specifier_text_doubles_only_percent(value: str, expected: str) -> None:
    assert specifier_text(value) == expected


def test_specifier_text_refuses_a_trailing_backslash() -> None:
    with pytest.raises(ScootError, match="ends with a backslash"):
        specifier_text("/srv/ends with \\")


def test_specifiers_kept_only_on_request() -> None:
    assert environment_assignment("SCOOT_HOME", "/var/lib/scoot/%i", specifiers=True) == (
        '"SCOOT_HOME=/var/lib/scoot/%i"'
    )
    assert specifier_text("%h/.scoot-%i", specifiers=True) == "%h/.scoot-%i"
