"""`scoot units systemd|launchd` through the real binary: output, files, exit codes."""

from __future__ import annotations

import os
import plistlib
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from scoottest import SCOOT, Scoot, need, scoot_env

from scoot.config import load
from scoot.home import RuntimeHome
from scoot.units import launchd, systemd

JOB = '\n[[schedule.jobs]]\nid = "j"\ngoal = "true"\nevery_sec = 60\n'


@pytest.fixture
def enabled(scoot: Scoot) -> Scoot:
    scoot.write_config(JOB, extra="[daemon]\nwatchdog_sec = 9\n")
    return scoot


def expected_stdout(files: list[tuple[str, str]]) -> str:
    return "\n".join(f"# {name}\n{text}" for name, text in files)


def library(scoot: Scoot, scope: systemd.Scope, kind: systemd.Kind, name: str,
            every: int | None = None) -> list[tuple[str, str]]:
    config = load(scoot.home.config).config
    target = systemd.Target(str(SCOOT), str(scoot.home.root), name, scope, kind, every)
    return [(f.name, f.text) for f in systemd.render(target, config)]


@pytest.mark.parametrize("scope", systemd.SCOPES)
@pytest.mark.parametrize("kind", systemd.KINDS)
def test_stdout_has_each_file_under_its_header(enabled: Scoot, scope: systemd.Scope,
                                               kind: systemd.Kind) -> None:
    r = enabled("units", "systemd", f"--{scope}", "--kind", kind)
    assert (r.returncode, r.stderr) == (0, "")
    # the home folder is named `home`: default name scoot-home
    assert r.stdout == expected_stdout(library(enabled, scope, kind, "scoot-home"))
    assert r.stdout.startswith("# scoot-home.service\n" if kind == "daemon"
                               else "# scoot-home-tick.service\n")
    assert f'ExecStart="{SCOOT}" ' in r.stdout  # the running scoot, absolute
    assert f'Environment="SCOOT_HOME={enabled.home.root}"' in r.stdout


def test_default_scope_follows_the_user(enabled: Scoot) -> None:
    r = enabled("units", "systemd")
    wanted = "multi-user.target" if os.geteuid() == 0 else "default.target"
    assert f"WantedBy={wanted}\n" in r.stdout


def test_name_every_and_the_default_home_name(enabled: Scoot, tmp_path: Path) -> None:
    r = enabled("units", "systemd", "--user", "--kind", "timer", "--name", "web", "--every", "90")
    assert r.returncode == 0
    assert r.stdout == expected_stdout(library(enabled, "user", "timer", "web", 90))
    assert "OnUnitActiveSec=90s\n" in r.stdout
    dot_scoot = Scoot(RuntimeHome(tmp_path / ".scoot"))
    assert dot_scoot("setup").returncode == 0
    r = dot_scoot("units", "systemd", "--user")
    assert r.stdout.startswith("# scoot.service\n")


def test_output_dir_writes_the_same_files(enabled: Scoot, tmp_path: Path) -> None:
    out = tmp_path / "out" / "deeper"
    r = enabled("units", "systemd", "--user", "--kind", "timer", "--output", str(out))
    assert (r.returncode, r.stderr) == (0, "")
    names = ["scoot-home-tick.service", "scoot-home-tick.timer"]
    assert r.stdout == "".join(f"wrote {out / n}\n" for n in names)
    for name, text in library(enabled, "user", "timer", "scoot-home"):
        path = out / name
        assert path.read_text(encoding="utf-8") == text
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(os.listdir(out)) == names  # no temp files left behind


@pytest.mark.parametrize(("args", "message"), [
    (["--kind", "daemon", "--every", "5"], "--every applies only to --kind timer"),
    (["--enable"], "--enable needs --install"),
    (["--install", "--output", "x"], "--output and --install exclude each other"),
    (["--kind", "timer", "--every", "0"], "--every"),
    (["--kind", "cron"], "--kind"),
])
def test_usage_errors_exit_2(enabled: Scoot, args: list[str], message: str) -> None:
    r = enabled("units", "systemd", "--user", *args)
    assert r.returncode == 2 and r.stdout == ""
    assert message in r.stderr


@pytest.mark.parametrize("name", ["a b", "x@y", ".hidden", "a/b", "é"])
def test_bad_name_is_one_line_exit_2(enabled: Scoot, name: str) -> None:
    for generator in ("systemd", "launchd"):
        r = enabled("units", generator, "--name", name)
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr.startswith(f"scoot: invalid unit name {name!r}") and r.stderr.count("\n") == 1


def test_missing_config_is_a_config_error(tmp_path: Path) -> None:
    scoot = Scoot(RuntimeHome(tmp_path / "none"))
    for generator in ("systemd", "launchd"):
        r = scoot("units", generator)
        assert r.returncode == 78 and r.stdout == ""
        assert r.stderr.startswith("scoot: config error: ") and "no such file" in r.stderr


def test_config_warnings_are_printed_and_a_disabled_schedule_is_flagged(scoot: Scoot) -> None:
    scoot.write_config('[[schedule.jobs]]\nid = "x"\ngoal = "true"\n', enabled=False)
    r = scoot("units", "systemd", "--user")
    assert r.returncode == 0
    assert '[scoot] warning: job "x" skipped: no trigger' in r.stderr
    assert ("[scoot] warning: schedule is disabled: the units will exit 78 until you set "
            f"[schedule] enabled = true in {scoot.home.config}") in r.stderr


def test_a_home_with_a_line_break_is_refused(tmp_path: Path) -> None:
    scoot = Scoot(RuntimeHome(tmp_path / "line\nbreak"))
    assert scoot("setup").returncode == 0
    scoot.write_config(JOB)
    for generator in ("systemd", "launchd"):
        r = scoot("units", generator)
        assert r.returncode == 1 and r.stdout == ""
        assert r.stderr.count("\n") == 1 and "line break" in r.stderr
        assert "Traceback" not in r.stderr


def test_install_writes_under_xdg_config_home_and_reports_systemctl_failure(
    enabled: Scoot, tmp_path: Path
) -> None:
    """No user manager listens here: the units are installed where systemd would read
    them, and the failed daemon-reload is one clear line with exit 1."""
    config_home, runtime = tmp_path / "cfg", tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {"XDG_CONFIG_HOME": str(config_home), "XDG_RUNTIME_DIR": str(runtime),
           "DBUS_SESSION_BUS_ADDRESS": f"unix:path={runtime}/bus"}
    r = enabled("units", "systemd", "--user", "--name", "x", "--install", "--enable", env=env)
    folder = config_home / "systemd" / "user"
    assert r.returncode == 1
    assert r.stdout == f"installed {folder}/x.service\n"
    assert (folder / "x.service").read_text() == dict(library(enabled, "user", "daemon", "x"))[
        "x.service"]
    assert r.stderr.startswith(
        f"scoot: installed into {folder}, but `systemctl --user daemon-reload` failed: ")
    assert r.stderr.count("\n") == 1


def test_system_install_goes_to_etc(enabled: Scoot, tmp_path: Path) -> None:
    """Inside a private mount namespace (a tmpfs over /etc/systemd/system), so the host
    is untouched; no system manager runs here, so daemon-reload fails cleanly."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        need("a mount namespace (root, unshare)", "SCOOT_REQUIRE_SYSTEMD", "not root")
    script = ('mount -t tmpfs tmpfs /etc/systemd/system && "$@"; rc=$?; '
              'ls /etc/systemd/system; cat /etc/systemd/system/w-tick.timer; exit $rc')
    r = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(SCOOT), "units", "systemd",
                        "--system", "--kind", "timer", "--name", "w", "--install"],
                       env=scoot_env(enabled.home), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stdout.startswith("installed /etc/systemd/system/w-tick.service\n"
                               "installed /etc/systemd/system/w-tick.timer\n"
                               "w-tick.service\nw-tick.timer\n")
    assert "WantedBy=timers.target" in r.stdout
    assert r.stderr.startswith("scoot: installed into /etc/systemd/system, but "
                               "`systemctl daemon-reload` failed: ")


# --- launchd ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", launchd.KINDS)
def test_launchd_stdout_and_output(enabled: Scoot, kind: launchd.Kind, tmp_path: Path) -> None:
    r = enabled("units", "launchd", "--kind", kind)
    assert (r.returncode, r.stderr) == (0, "")
    config = load(enabled.home.config).config
    [plist] = launchd.render(launchd.Agent(str(SCOOT), str(enabled.home.root), "scoot-home", kind),
                             config)
    assert r.stdout == f"# io.scoot.scoot-home.plist\n{plist.text}"
    r = enabled("units", "launchd", "--kind", kind, "--output", str(tmp_path))
    assert r.stdout == f"wrote {tmp_path}/io.scoot.scoot-home.plist\n"
    written = plistlib.loads((tmp_path / "io.scoot.scoot-home.plist").read_bytes())
    assert written["EnvironmentVariables"] == {"SCOOT_HOME": str(enabled.home.root)}


def test_launchd_install_off_macos_exits_1(enabled: Scoot, tmp_path: Path) -> None:
    r = enabled("units", "launchd", "--install", env={"HOME": str(tmp_path)})
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == (f"scoot: --install needs macOS (launchctl), this is {sys.platform}: "
                        "print the plist or write it with --output DIR\n")
    assert not (tmp_path / "Library").exists()


def test_help_lists_the_options(enabled: Scoot) -> None:
    r = enabled("units", "systemd", "--help")
    for option in ("--user", "--system", "--kind", "--name", "--every", "--output", "--install",
                   "--enable"):
        assert option in r.stdout
    r = enabled("units", "launchd", "--help")
    assert "--install" in r.stdout and "--enable" not in r.stdout
