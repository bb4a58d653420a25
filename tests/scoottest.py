"""Helpers shared by the whole suite: the real `scoot` binary, homes, a real systemd.

Test modules import these by name (`from scoottest import Scoot`); the fixtures that
use them are in conftest.py (a module name several folders share, so never imported).

Capabilities a test needs (a systemd user manager, the kernel's sandbox layers) are
skipped when missing on a developer's machine, but fail when CI demands them with
SCOOT_REQUIRE_SYSTEMD=1 / SCOOT_REQUIRE_SANDBOX=1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
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
