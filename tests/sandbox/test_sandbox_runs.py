"""Ordinary work inside scratch, and the wrapper's refusals (exit 126, goal not run)."""

from __future__ import annotations

import subprocess
import sys

from sandbox_helpers import Workspace

ORDINARY_WORK = """
set -e
mkdir -p src/sub
echo hello > src/sub/file
chmod 755 src/sub/file
ln -s file src/sub/link
touch -d @0 src/sub/file
tar cf archive.tar src
mkdir out
tar xf archive.tar -C out
cp -p src/sub/file copy
cmp copy out/src/sub/file
echo discarded > /dev/null
"$PY" -c 'import tempfile; tempfile.mkstemp(); open("py-wrote", "w").write("ok")'
test "$HOME" = "$PWD"
test -d "$TMPDIR"
"$PY" -m venv --without-pip venv
echo ALL-DONE
"""


def test_ordinary_work_in_scratch(enforced: Workspace) -> None:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PY": enforced.python}
    result = enforced.run(["sh", "-c", ORDINARY_WORK], env=env)
    assert result.report is not None and result.report.ok
    assert result.stdout.strip() == "ALL-DONE", result.stderr
    assert (enforced.scratch / "out/src/sub/file").read_text() == "hello\n"
    assert (enforced.scratch / "copy").stat().st_mtime == 0
    assert (enforced.scratch / "venv/bin/python").exists()
    assert list((enforced.scratch / "tmp").iterdir())  # mkstemp used TMPDIR


def test_report_lists_every_layer(enforced: Workspace) -> None:
    result = enforced.run(["true"])
    assert result.returncode == 0
    assert result.report is not None
    assert result.report.layers == ("mountns", "netns", "nnp", "landlock", "seccomp")
    assert result.report.missing == ()
    assert result.report.landlock_abi is not None and result.report.landlock_abi >= 3


def test_missing_scratch_refuses_before_the_goal(ws: Workspace) -> None:
    marker = ws.outside / "ran"
    ws.scratch.rmdir()
    result = ws.run(["touch", str(marker)])
    assert result.returncode == 126
    assert result.report is not None and not result.report.ok
    assert result.report.reason is not None and result.report.reason.startswith("scratch:")
    assert not marker.exists()


def test_usage_error_exits_126() -> None:
    done = subprocess.run([sys.executable, "-I", "-m", "scoot.sandbox", "--scratch", "/tmp",
                           "true"], capture_output=True, text=True, check=False)
    assert done.returncode == 126
    assert "usage:" in done.stderr


def test_command_not_found_is_127_after_a_good_report(enforced: Workspace) -> None:
    result = enforced.run(["/nonexistent/goal"])
    assert result.report is not None and result.report.ok
    assert result.returncode == 127


# A host without Landlock or namespaces, simulated: this launcher installs a seccomp
# filter that answers landlock_* with ENOSYS and unshare with EPERM, then execs the
# wrapper, which inherits the filter.
HOSTILE_HOST = """
import ctypes, os, struct, sys
arch = {"x86_64": (0xC000003E, 272), "aarch64": (0xC00000B7, 97)}[os.uname().machine]
def insn(code, jt, jf, k): return struct.pack("<HBBI", code, jt, jf, k)
ENOSYS, EPERM, ALLOW = 0x00050000 | 38, 0x00050000 | 1, 0x7FFF0000
prog = b"".join([
    insn(0x20, 0, 0, 4), insn(0x15, 1, 0, arch[0]), insn(0x06, 0, 0, ALLOW),
    insn(0x20, 0, 0, 0),
    insn(0x15, 4, 0, 444), insn(0x15, 3, 0, 445), insn(0x15, 2, 0, 446),
    insn(0x15, 2, 0, arch[1]),
    insn(0x06, 0, 0, ALLOW), insn(0x06, 0, 0, ENOSYS), insn(0x06, 0, 0, EPERM),
])
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(prog, len(prog))
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fprog = Fprog(len(prog) // 8, ctypes.addressof(buf))
libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
assert libc.prctl(38, 1, 0, 0, 0) == 0
assert libc.prctl(22, 2, ctypes.addressof(fprog), 0, 0) == 0
os.execv(sys.argv[1], sys.argv[1:])
"""


def _hostile(ws: Workspace) -> list[str]:
    # Runs as the test's user, before the switch to the job's user, which keeps it.
    return [sys.executable, "-c", HOSTILE_HOST]


def test_host_without_layers_refuses(ws: Workspace) -> None:
    marker = ws.scratch / "ran"
    result = ws.run(["touch", str(marker)], launcher=_hostile(ws))
    assert result.returncode == 126, result.stderr
    assert result.report is not None and not result.report.ok
    # As root the mount layer is required and fails first; otherwise Landlock does.
    first = "mountns" if ws.uid is None else "landlock"
    assert result.report.reason is not None and result.report.reason.startswith(first + ":")
    assert not marker.exists()


def test_host_without_layers_best_effort_runs_with_what_it_has(ws: Workspace) -> None:
    marker = ws.scratch / "ran"
    result = ws.run(["touch", str(marker)], launcher=_hostile(ws), best_effort=True)
    assert result.returncode == 0, result.stderr
    assert result.report is not None and result.report.ok
    assert set(result.report.missing) == {"mountns", "netns", "landlock"}
    assert result.report.layers == ("nnp", "seccomp")
    assert result.report.landlock_abi is None
    assert marker.exists()
