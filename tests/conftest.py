"""Fixtures shared by the whole suite (helpers they use live in scoottest.py)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from scoottest import SCOOT, Scoot, UserSystemd, need, scoot_env, wait_for

from scoot.home import RuntimeHome


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
