"""Helpers for the sandbox suite: run the real wrapper as root or as an ordinary user.

Tests that need a layer the host lacks are skipped, unless SCOOT_REQUIRE_SANDBOX=1
(CI), where a missing layer is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scoot.sandbox.launch import Report, confine_env, parse_report, wrapper_argv

NOBODY = 65534
SETPRIV = shutil.which("setpriv")
REQUIRED_ENV = "SCOOT_REQUIRE_SANDBOX"


def require_sandbox(reason: str) -> None:
    """Skip for lack of a sandbox layer, or fail when CI demands the sandbox."""
    if os.environ.get(REQUIRED_ENV) == "1":
        pytest.fail(f"sandbox required ({REQUIRED_ENV}=1) but unavailable: {reason}")
    pytest.skip(f"sandbox unavailable: {reason}")


def as_user_prefix(uid: int | None) -> list[str]:
    if uid is None:
        return []
    assert SETPRIV is not None
    return [SETPRIV, "--reuid", str(uid), "--regid", str(uid), "--clear-groups"]


_PROBES: dict[int | None, dict[str, Any]] = {}


def probe_as(uid: int | None) -> dict[str, Any]:
    """scoot.sandbox.probe() as seen by `uid` (None: the test's own user, root)."""
    if uid not in _PROBES:
        code = "import json; from scoot.sandbox.probe import probe; print(json.dumps(probe()))"
        done = subprocess.run([*as_user_prefix(uid), sys.executable, "-I", "-c", code],
                              capture_output=True, text=True, timeout=30, check=False)
        try:
            _PROBES[uid] = json.loads(done.stdout)
        except ValueError:
            _PROBES[uid] = {"readonly_enforceable": False, "errors": {"probe": done.stderr}}
    return _PROBES[uid]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    report: Report | None  # None for an unconfined control run


@dataclass
class Workspace:
    """A fresh scratch folder and an 'outside' folder the job must not touch.

    Both belong to the user the job runs as, so that without the sandbox every attack
    would succeed: the control runs prove it.
    """

    base: Path
    scratch: Path
    outside: Path
    uid: int | None

    @property
    def victim(self) -> Path:
        return self.outside / "victim.txt"

    def chown(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.uid)

    @property
    def python(self) -> str:
        """An interpreter the job's user can exec from inside the sandbox.

        The test's own interpreter may sit under a home the ordinary user cannot
        search (pyenv in /root), so the system one stands in for it there.
        """
        if self.uid is None:
            return sys.executable
        return shutil.which("python3", path="/usr/bin:/bin") or sys.executable

    def fresh_scratch(self) -> None:
        shutil.rmtree(self.scratch)
        self.scratch.mkdir()
        self.chown(self.scratch)

    def run(self, argv: Sequence[str], *, confined: bool = True, best_effort: bool = False,
            pass_fds: Sequence[int] = (), env: Mapping[str, str] | None = None,
            launcher: Sequence[str] = (), timeout: float = 30) -> Result:
        base_env = dict(os.environ if env is None else env)
        if not confined:
            done = subprocess.run([*as_user_prefix(self.uid), *argv], cwd=self.scratch,
                                  env=base_env, pass_fds=tuple(pass_fds), capture_output=True,
                                  text=True, timeout=timeout, check=False)
            return Result(done.returncode, done.stdout, done.stderr, None)
        read_end, write_end = os.pipe()
        try:
            command = wrapper_argv(argv, scratch=self.scratch, best_effort=best_effort,
                                   report_fd=write_end)
            proc = subprocess.Popen([*launcher, *as_user_prefix(self.uid), *command],
                                    env=confine_env(base_env, self.scratch),
                                    pass_fds=(write_end, *pass_fds), stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            os.close(write_end)
            write_end = -1
            with os.fdopen(read_end, "rb") as reader:
                read_end = -1
                data = reader.read()
            out, err = proc.communicate(timeout=timeout)
        finally:
            for fd in (read_end, write_end):
                if fd >= 0:
                    os.close(fd)
        return Result(proc.returncode, out, err, parse_report(data))

    def py(self, code: str, *args: str, **kwargs: Any) -> Result:
        return self.run([self.python, "-c", code, *args], **kwargs)
