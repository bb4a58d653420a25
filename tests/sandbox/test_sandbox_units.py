"""Pure parts of the sandbox: launch API, report parsing, Seatbelt text, BPF assembly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from scoot.sandbox import seatbelt, seccomp
from scoot.sandbox.__main__ import UsageError, parse_args
from scoot.sandbox.launch import NO_REPORT, Report, confine_env, parse_report, wrapper_argv


def test_wrapper_argv() -> None:
    argv = wrapper_argv(["echo", "hi"], scratch=Path("/s"), best_effort=True, report_fd=7)
    assert argv == [sys.executable, "-I", "-m", "scoot.sandbox", "--scratch", "/s",
                    "--report-fd", "7", "--best-effort", "--", "echo", "hi"]
    strict = wrapper_argv(["x"], scratch=Path("/s"), best_effort=False, report_fd=3)
    assert "--best-effort" not in strict
    assert parse_args(strict[4:]).command == ["x"]


def test_confine_env() -> None:
    env = {"PATH": "/bin", "SSH_AUTH_SOCK": "a", "DBUS_SESSION_BUS_ADDRESS": "b",
           "DOCKER_HOST": "c", "HTTP_PROXY": "d", "https_proxy": "e", "Ftp_Proxy": "f",
           "ALL_PROXY": "g", "no_proxy": "h", "HOME": "/root", "TMPDIR": "/tmp"}
    assert confine_env(env, Path("/s")) == {"PATH": "/bin", "HOME": "/s", "TMPDIR": "/s/tmp"}


@pytest.mark.parametrize("data", [b"", b"garbage", b"[]", b'{"layers": []}',
                                  b'{"ok": true, "layers": "mountns"}',
                                  b'{"ok": true, "landlock_abi": "7"}', b"\xff\xfe"])
def test_parse_report_garbled_is_refusal(data: bytes) -> None:
    assert parse_report(data) == Report(False, (), (), None, NO_REPORT)


def test_parse_report_ok_and_refused() -> None:
    ok = parse_report(b'{"ok": true, "layers": ["nnp", "seccomp"], "missing": ["mountns"],'
                      b' "landlock_abi": 7}\n')
    assert ok == Report(True, ("nnp", "seccomp"), ("mountns",), 7, None)
    refused = parse_report(b'{"ok": false, "reason": "landlock: ABI 2", "layers": ["nnp"],'
                           b' "missing": [], "landlock_abi": 2}')
    assert refused == Report(False, ("nnp",), (), 2, "landlock: ABI 2")


@pytest.mark.parametrize("argv", [[], ["--scratch", "/s", "--", "x"],
                                  ["--scratch", "/s", "--report-fd", "1", "--", "x"],
                                  ["--scratch", "/s", "--report-fd", "x", "--", "x"],
                                  ["--scratch", "/s", "--report-fd", "3", "--"],
                                  ["--bogus", "--", "x"]])
def test_parse_args_rejects(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_args(argv)


def test_seatbelt_profile_text() -> None:
    assert seatbelt.profile() == (
        "(version 1)\n"
        "(deny default)\n"
        "(allow process-exec process-fork)\n"
        "(allow signal (target same-sandbox))\n"
        "(allow file-read*)\n"
        "(allow sysctl-read)\n"
        '(allow file-write* (subpath (param "SCRATCH")))\n'
        '(allow file-write-data (literal "/dev/null"))\n'
        "(deny network*)\n"
    )


def test_sandbox_exec_argv_passes_scratch_as_parameter() -> None:
    # A path with quotes and parentheses never reaches the profile's text.
    argv = seatbelt.sandbox_exec_argv(["ls", "-l"], '/private/tmp/a "b" (c)')
    assert argv == ["/usr/bin/sandbox-exec", "-p", seatbelt.profile(),
                    "-D", 'SCRATCH=/private/tmp/a "b" (c)', "--", "ls", "-l"]


@pytest.mark.parametrize("machine", sorted(seccomp.ARCHES))
def test_seccomp_program_assembles(machine: str) -> None:
    arch = seccomp.ARCHES[machine]
    code = seccomp.build_program(arch)
    assert len(code) % 8 == 0 and len(code) // 8 < 64
    # First instructions: load the audit arch and kill on mismatch.
    assert code[:8] == bytes.fromhex("2000000004000000")
    assert int.from_bytes(code[12:16], "little") == arch.audit_arch
