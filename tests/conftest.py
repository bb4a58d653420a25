"""Fixtures shared by the whole suite: the real `scoot` binary, homes, a real systemd.

Capabilities a test needs (a systemd user manager, the kernel's sandbox layers) are
skipped when missing on a developer's machine, but fail when CI demands them with
SCOOT_REQUIRE_SYSTEMD=1 / SCOOT_REQUIRE_SANDBOX=1.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scoot.home import RuntimeHome

SCOOT = Path(sys.executable).parent / "scoot"


def need(capability: str, env_flag: str, reason: str) -> None:
    """Skip for lack of `capability`, or fail when `env_flag` demands it."""
    if os.environ.get(env_flag) == "1":
        pytest.fail(f"{capability} is required here ({env_flag}=1) but unavailable: {reason}")
    pytest.skip(f"{capability} unavailable: {reason}")


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll `predicate` until it returns something truthy; fail past `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        time.sleep(interval)


def scoot_env(home: RuntimeHome | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCOOT_", "NOTIFY_", "WATCHDOG_"))}
    if home is not None:
        env["SCOOT_HOME"] = str(home.root)
    env.update(extra or {})
    return env


@dataclass
class Scoot:
    """Runs the installed `scoot` console script against one home."""

    home: RuntimeHome
    env: dict[str, str] = field(default_factory=dict)

    def __call__(
        self, *args: str, input: str | None = None, timeout: float = 60, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCOOT), *args],
            env=scoot_env(self.home, {**self.env, **(env or {})}),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def popen(self, *args: str, env: Mapping[str, str] | None = None, **kw: Any) -> subprocess.Popen[str]:
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return subprocess.Popen(
            [str(SCOOT), *args],
            env=scoot_env(self.home, {**self.env, **(env or {})}),
            text=True,
            **kw,
        )

    def write_config(self, body: str, *, enabled: bool = True, poll_ms: int = 200, extra: str = "") -> None:
        """A config with `[schedule]` set as given, then `extra` tables, then `body` (jobs)."""
        text = f"[schedule]\nenabled = {'true' if enabled else 'false'}\npoll_ms = {poll_ms}\n\n{extra}\n{body}"
        self.home.config.write_text(text)


@pytest.fixture
def home(tmp_path: Path) -> RuntimeHome:
    """A freshly provisioned home (through the real `scoot setup`)."""
    h = RuntimeHome(tmp_path / "home")
    r = subprocess.run([str(SCOOT), "--scoot-home", str(h.root), "setup"], capture_output=True, text=True,
                       env=scoot_env())
    assert r.returncode == 0, r.stderr
    return h


@pytest.fixture
def scoot(home: RuntimeHome) -> Scoot:
    return Scoot(home)


# --- a real systemd user manager (../shared/testing/systemd-user.md) -------------------


@dataclass
class UserSystemd:
    root: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    @property
    def unit_dir(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) / "systemd" / "user"

    def systemctl(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(["systemctl", "--user", *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"systemctl --user {' '.join(args)} failed: {r.stderr.strip()}")
        return r

    def show(self, unit: str, *props: str) -> dict[str, str]:
        out = self.systemctl("show", "-p", ",".join(props), unit).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def wait_state(self, unit: str, timeout: float = 30, **expected: str) -> dict[str, str]:
        def matches() -> dict[str, str] | None:
            props = self.show(unit, *expected)
            return props if all(props.get(k) == v for k, v in expected.items()) else None

        return wait_for(matches, timeout=timeout, interval=0.1)


@pytest.fixture
def user_systemd() -> Iterator[UserSystemd]:
    manager = Path("/usr/lib/systemd/systemd")
    if not manager.exists() or shutil.which("unshare") is None:
        need("a systemd user manager", "SCOOT_REQUIRE_SYSTEMD", f"{manager} or unshare missing")
    if os.geteuid() != 0:
        need("a systemd user manager", "SCOOT_REQUIRE_SYSTEMD", "the test manager needs root")
    root = Path(tempfile.mkdtemp(prefix="scoot-systemd-"))
    env = scoot_env(extra={"XDG_RUNTIME_DIR": str(root / "run"), "XDG_CONFIG_HOME": str(root / "config")})
    (root / "run").mkdir(mode=0o700)
    (root / "config" / "systemd" / "user").mkdir(parents=True)
    log = open(root / "manager.log", "wb")  # noqa: SIM115 - closed in the finally below
    # systemd refuses to start unless /run/systemd/system exists; make it in a private
    # mount namespace so nothing leaks onto the host.
    process = subprocess.Popen(
        ["unshare", "-m", "sh", "-c",
         "mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && exec " + str(manager) + " --user"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    sd = UserSystemd(root, env, process)
    try:
        socket = root / "run" / "systemd" / "private"
        try:
            wait_for(lambda: socket.exists() or process.poll() is not None, timeout=20)
        except AssertionError:
            pass
        if not socket.exists():
            text = (root / "manager.log").read_text(errors="replace")[-2000:]
            need("a systemd user manager", "SCOOT_REQUIRE_SYSTEMD", f"manager did not start: {text}")
        yield sd
    finally:
        if process.poll() is None:
            subprocess.run(["systemctl", "--user", "exit"], env=env, capture_output=True, timeout=30)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)
