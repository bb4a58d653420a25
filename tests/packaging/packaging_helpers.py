"""Shared by the packaging tests: the source tree, apt with lock waiting, dpkg snapshots.

Tests that install system packages need root on Debian; elsewhere they skip through
scoottest's need(), or fail under SCOOT_REQUIRE_PACKAGING=1 (set by CI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from scoottest import need

REPO = Path(__file__).resolve().parents[2]
REQUIRE = "SCOOT_REQUIRE_PACKAGING"

# What CI installs up front (and what these tests install when missing): the Debian
# build toolchain, ruby for `ruby -c`, git to copy the checkout.
BUILD_PACKAGES = (
    "build-essential",
    "dpkg-dev",
    "debhelper",
    "dh-python",
    "pybuild-plugin-pyproject",
    "python3-all",
    "python3-setuptools",
    "python3-wheel",
    "python3-click",
    "man-db",
)
TOOL_PACKAGES = ("ruby", "git")

CLEAN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_apt_updated = False


def need_debian_root() -> None:
    if not Path("/etc/debian_version").exists() or shutil.which("dpkg-query") is None:
        need("a Debian host", REQUIRE, "no /etc/debian_version or dpkg")
    if os.geteuid() != 0:
        need("root on a Debian host", REQUIRE, "installing packages needs root")


def apt_get(*args: str, deadline: float = 900) -> subprocess.CompletedProcess[str]:
    """apt-get, waiting (up to `deadline` s) while another process holds apt's locks."""
    env = {"PATH": CLEAN_PATH, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8"}
    end = time.monotonic() + deadline
    while True:
        # DPkg::Lock::Timeout covers dpkg's lock; the lists lock taken by `update` is
        # not covered, hence the retry loop around it.
        r = subprocess.run(
            ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=600", *args],
            env=env, capture_output=True, text=True, timeout=deadline,
        )
        busy = "Could not get lock" in r.stderr or "Unable to lock" in r.stderr
        if r.returncode == 0 or not busy or time.monotonic() > end:
            return r
        time.sleep(2)


def apt_update_once() -> None:
    global _apt_updated
    if not _apt_updated:
        r = apt_get("update")
        assert r.returncode == 0, r.stderr
        _apt_updated = True


def installed(package: str) -> bool:
    r = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", package],
        capture_output=True, text=True, env={"PATH": CLEAN_PATH},
    )
    return r.returncode == 0 and r.stdout.startswith("ii")


def ensure_packages(*packages: str) -> None:
    """Install what is missing of `packages` (apt-get update once, first)."""
    need_debian_root()
    missing = [p for p in packages if not installed(p)]
    if not missing:
        return
    apt_update_once()
    r = apt_get("install", "--no-install-recommends", *missing)
    assert r.returncode == 0, f"apt-get install {' '.join(missing)} failed:\n{r.stderr[-3000:]}"


def dpkg_snapshot() -> dict[str, str]:
    """Every package dpkg knows, with its version and status (ii, rc, ...)."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${binary:Package} ${Version} ${db:Status-Abbrev}\n"],
        capture_output=True, text=True, check=True, env={"PATH": CLEAN_PATH},
    ).stdout
    snap: dict[str, str] = {}
    for line in out.splitlines():
        name, version, status = [*line.split(" ", 2), "", ""][:3]
        if status.strip() and not status.startswith("un"):
            snap[name] = f"{version} {status.strip()}"
    return snap


def copy_source_tree(dest: Path) -> Path:
    """Copy the checkout's tracked and new (not ignored) files: no venvs, no caches."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in files:
        src = REPO / name
        if not name or not src.is_file():
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest
