"""The repository's units/ and launchd/: produced by the generator, verified as shipped."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from scoottest import SCOOT, need
from units_helpers import REPO, plistutil_roundtrip, verify

from scoot.units.shipped import DEBIAN_SCOOT, drift, shipped_files

SYSTEM_TEMPLATES = ["scoot@.service", "scoot-tick@.service", "scoot-tick@.timer"]


def test_shipped_files_match_the_generator() -> None:
    changed = drift(REPO)
    assert changed == [], (
        f"{changed} drifted from the generator: run `python -m scoot.units.shipped` and review"
    )


def test_drift_check_fails_on_an_edited_copy(tmp_path: Path) -> None:
    for rel, text in shipped_files().items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    assert drift(tmp_path) == []
    unit = tmp_path / "units" / "scoot@.service"
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restart=always"))
    (tmp_path / "launchd" / "timer" / "io.scoot.scoot.plist").unlink()
    assert drift(tmp_path) == ["units/scoot@.service", "launchd/timer/io.scoot.scoot.plist"]


def test_check_command_exit_status() -> None:
    r = subprocess.run([sys.executable, "-m", "scoot.units.shipped", "--check"],
                       capture_output=True, text=True, cwd=REPO)
    assert (r.returncode, r.stderr) == (0, "")


def test_shipped_layout_and_instance_mapping() -> None:
    files = shipped_files()
    assert sorted(files) == sorted(
        [f"units/{n}" for n in SYSTEM_TEMPLATES] + [f"units/user/{n}" for n in SYSTEM_TEMPLATES]
        + ["launchd/daemon/io.scoot.scoot.plist", "launchd/timer/io.scoot.scoot.plist"]
    )
    system, user = files["units/scoot@.service"], files["units/user/scoot@.service"]
    assert 'Environment="SCOOT_HOME=/var/lib/scoot/%i"' in system.splitlines()
    assert "StateDirectory=scoot/%i" in system.splitlines()
    assert "WantedBy=multi-user.target" in system.splitlines()
    assert 'Environment="SCOOT_HOME=%h/.scoot-%i"' in user.splitlines()
    assert "WantedBy=default.target" in user.splitlines()
    assert "StateDirectory" not in user
    for rel, text in files.items():
        if rel.startswith("units/") and not rel.endswith(".timer"):
            assert f'ExecStart="{DEBIAN_SCOOT}" ' in text


def _with_scoot_at_usr_bin(tmp_path: Path) -> list[str]:
    """A command prefix under which /usr/bin/scoot exists: the Debian package's, or this
    checkout's scoot overlaid on /usr/bin inside a private mount namespace."""
    if Path(DEBIAN_SCOOT).exists():
        return []
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        need("a mount namespace (root, unshare)", "SCOOT_REQUIRE_SYSTEMD",
             "/usr/bin/scoot is missing and cannot be overlaid")
    extra = tmp_path / "extra-bin"
    extra.mkdir()
    (extra / "scoot").symlink_to(SCOOT)
    return ["unshare", "-m", "sh", "-c",
            f'mount -t overlay overlay -o "lowerdir={extra}:/usr/bin" /usr/bin && exec "$@"', "sh"]


@pytest.mark.parametrize("folder", ["units", "units/user"])
def test_shipped_units_verify_with_instances(folder: str, tmp_path: Path) -> None:
    """The exact shipped bytes, instantiated as `web` and as an escaped instance name."""
    wrap = _with_scoot_at_usr_bin(tmp_path)
    units = tmp_path / "units"
    units.mkdir()
    for name in SYSTEM_TEMPLATES:
        shutil.copy(REPO / folder / name, units / name)
    instances = []
    for instance in ("web", "my\\x20site-2"):
        instances += [units / n.replace("@.", f"@{instance}.") for n in SYSTEM_TEMPLATES]
    verify(instances, user=folder == "units/user", wrap=wrap)


@pytest.mark.parametrize("kind", ["daemon", "timer"])
def test_shipped_plists(kind: str, tmp_path: Path) -> None:
    path = REPO / "launchd" / kind / "io.scoot.scoot.plist"
    plist = plistlib.loads(path.read_bytes())
    assert plist["Label"] == "io.scoot.scoot"
    assert plist["ProgramArguments"][0] == "/opt/homebrew/opt/scoot/bin/scoot"  # not the Cellar
    assert plist["EnvironmentVariables"] == {"SCOOT_HOME": "/opt/homebrew/var/scoot"}
    assert plistlib.loads(plistutil_roundtrip(path, tmp_path)) == plist
