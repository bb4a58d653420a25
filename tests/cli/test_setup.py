"""`scoot setup` and home resolution, through the real binary."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from scoottest import SCOOT, Scoot, scoot_env

from scoot.home import RuntimeHome


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCOOT), *args], capture_output=True, text=True, env=env or scoot_env())


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_setup_provisions_folders_0700_and_files_0600(tmp_path: Path) -> None:
    root = tmp_path / "h"
    r = run("--scoot-home", str(root), "setup")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"Scoot home: {root}"
    assert "Next steps:" in r.stdout
    home = RuntimeHome(root)
    for folder in (home.root, home.logs, home.state, home.sessions):
        assert folder.is_dir() and mode_of(folder) == 0o700, folder
    assert mode_of(home.config) == 0o600
    text = home.config.read_text()
    assert "enabled = false" in text
    assert "# [[schedule.jobs]]" in text  # the commented example job
    # every key of SPEC §4 is there, each after a comment line
    lines = text.splitlines()
    for key in ("enabled", "poll_ms", "mode", "sandbox", "command", "timeout_sec",
                "output_max_bytes", "stop_timeout_sec", "watchdog_sec"):
        i = next(n for n, line in enumerate(lines) if line.startswith(f"{key} = "))
        assert lines[i - 1].startswith("#"), key


def test_setup_is_idempotent_and_keeps_an_edited_config(scoot: Scoot) -> None:
    scoot.home.config.write_text("[schedule]\nenabled = true\n")
    r = scoot("setup")
    assert r.returncode == 0, r.stderr
    assert f"Kept existing {scoot.home.config}" in r.stdout
    assert scoot.home.config.read_text() == "[schedule]\nenabled = true\n"


def test_setup_force_keeps_a_timestamped_backup(scoot: Scoot) -> None:
    scoot.home.config.write_text("# mine\n")
    r = scoot("setup", "--force")
    assert r.returncode == 0, r.stderr
    backups = list(scoot.home.root.glob("config.toml.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == "# mine\n"
    assert f"Previous config kept as {backups[0]}" in r.stdout
    assert "enabled = false" in scoot.home.config.read_text()
    assert scoot("setup", "--force").returncode == 0  # a second backup in the same second
    assert len(list(scoot.home.root.glob("config.toml.bak-*"))) == 2


def test_setup_refuses_a_foreign_non_empty_folder(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "main.c").write_text("int main;")
    r = run("--scoot-home", str(root), "setup")
    assert r.returncode == 1
    assert r.stderr == (f"scoot: {root} is not empty and is not a Scoot home (found 'main.c'); "
                        "use --force to provision it anyway\n")
    assert not (root / "config.toml").exists()
    assert run("--scoot-home", str(root), "setup", "--force").returncode == 0
    assert (root / "main.c").exists() and (root / "config.toml").exists()


def test_setup_tightens_loose_permissions(scoot: Scoot) -> None:
    scoot.home.root.chmod(0o755)
    scoot.home.config.chmod(0o644)
    assert scoot("setup").returncode == 0
    assert mode_of(scoot.home.root) == 0o700 and mode_of(scoot.home.config) == 0o600


def test_home_resolution_order(tmp_path: Path) -> None:
    env = scoot_env(extra={"HOME": str(tmp_path), "SCOOT_HOME": str(tmp_path / "from-env")})
    assert run("--scoot-home", str(tmp_path / "from-flag"), "setup", env=env).returncode == 0
    assert (tmp_path / "from-flag" / "config.toml").exists()
    assert run("setup", env=env).returncode == 0
    assert (tmp_path / "from-env" / "config.toml").exists()
    del env["SCOOT_HOME"]
    r = run("setup", env=env)
    assert r.returncode == 0
    assert r.stdout.splitlines()[0] == f"Scoot home: {tmp_path / '.scoot'}"


def test_relative_home_is_made_absolute(tmp_path: Path) -> None:
    r = subprocess.run([str(SCOOT), "--scoot-home", "rel/h", "setup"], capture_output=True, text=True,
                       cwd=tmp_path, env=scoot_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"Scoot home: {tmp_path / 'rel' / 'h'}"
