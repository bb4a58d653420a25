"""systemd rendering: golden files byte for byte, and `systemd-analyze verify` with an
empty stderr for every scope, kind and nasty home."""

from __future__ import annotations

from pathlib import Path

import pytest
from scoottest import SCOOT
from units_helpers import NASTY_FOLDERS, check_golden, verify

from scoot.config import Config
from scoot.errors import ExitCode, ScootError
from scoot.units import systemd
from scoot.units.names import MAX_NAME, check_name, default_name, running_scoot

DEFAULTS = Config(path=Path("config.toml"))


def config(**kw: object) -> Config:
    return Config(path=Path("config.toml"), **kw)  # type: ignore[arg-type]


def rendered(target: systemd.Target, cfg: Config = DEFAULTS) -> dict[str, str]:
    return {f.name: f.text for f in systemd.render(target, cfg)}


# --- golden files -------------------------------------------------------------------

GOLDEN_CASES = [
    # (golden prefix, target, config)
    ("user-daemon-default",
     systemd.Target("/usr/bin/scoot", "/home/alice/.scoot", "scoot", "user", "daemon"), DEFAULTS),
    ("system-daemon-no-watchdog",
     systemd.Target("/usr/bin/scoot", "/srv/scoot/web", "scoot-web", "system", "daemon"),
     config(watchdog_sec=0, stop_timeout_sec=7.5)),
    ("user-timer-poll-2500ms",
     systemd.Target("/usr/bin/scoot", "/home/alice/.scoot", "scoot", "user", "timer"),
     config(poll_ms=2500)),
    ("system-timer-every-60",
     systemd.Target("/usr/local/bin/scoot", "/srv/scoot/web", "web", "system", "timer", every=60),
     DEFAULTS),
    ("user-daemon-nasty-home",
     systemd.Target("/opt/my tools/50%/scoot", "/home/al ice/all: 'a' \"b\" $X %n \\ ; ✓",
                    "scoot-nasty", "user", "daemon"), config(watchdog_sec=5)),
    ("user-timer-nasty-home",
     systemd.Target("/opt/my tools/50%/scoot", "/home/al ice/$HOME ${USER} tab\there",
                    "scoot-nasty", "user", "timer"), DEFAULTS),
]


@pytest.mark.parametrize(("prefix", "target", "cfg"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden(prefix: str, target: systemd.Target, cfg: Config) -> None:
    for name, text in rendered(target, cfg).items():
        check_golden(f"systemd/{prefix}/{name}", text)


# --- what the spec asks of each unit, read from the text -----------------------------


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_daemon_unit_settings() -> None:
    target = systemd.Target("/usr/bin/scoot", "/srv/scoot/web", "scoot-web", "user", "daemon")
    text = rendered(target, config(watchdog_sec=12, stop_timeout_sec=30))["scoot-web.service"]
    got = lines(text)
    for expected in [
        "Type=notify", "NotifyAccess=main", 'ExecStart="/usr/bin/scoot" "daemon" "run"',
        "ExecReload=/bin/kill -HUP $MAINPID", 'Environment="SCOOT_HOME=/srv/scoot/web"',
        "Restart=on-failure", "WatchdogSec=12s", "TimeoutStopSec=45s", "KillMode=mixed",
        "WantedBy=default.target",
    ]:
        assert expected in got
    assert not any(line.startswith(("ExecStart=/bin/sh", "User=", "Group=")) for line in got)
    assert "multi-user.target" not in text


def test_watchdog_omitted_when_zero_and_stop_timeout_rounds_up() -> None:
    target = systemd.Target("/usr/bin/scoot", "/srv/w", "w", "system", "daemon")
    got = lines(rendered(target, config(watchdog_sec=0, stop_timeout_sec=0.2))["w.service"])
    assert not any(line.startswith("WatchdogSec") for line in got)
    assert "TimeoutStopSec=16s" in got  # > the 0.2 s grace, with the kill margin
    assert "WantedBy=multi-user.target" in got


def test_timer_kind() -> None:
    target = systemd.Target("/usr/bin/scoot", "/srv/w", "w", "user", "timer")
    files = rendered(target, config(poll_ms=1001))
    assert list(files) == ["w-tick.service", "w-tick.timer"]
    service, timer = lines(files["w-tick.service"]), lines(files["w-tick.timer"])
    assert "Type=oneshot" in service
    assert 'ExecStart="/usr/bin/scoot" "schedule" "run" "--ticks" "1"' in service
    assert "SuccessExitStatus=75" in service
    assert "[Install]" not in service and not any(x.startswith("WantedBy") for x in service)
    # period: poll_ms rounded up to whole seconds; a start point for a fresh install
    assert timer[timer.index("[Timer]") + 1:] == [
        "OnActiveSec=1s", "OnUnitActiveSec=2s", "AccuracySec=1s", "[Install]",
        "WantedBy=timers.target",
    ]


@pytest.mark.parametrize(("poll_ms", "every", "period"), [
    (1, None, 1), (999, None, 1), (1000, None, 1), (1001, None, 2), (60000, None, 60),
    (1000, 300, 300), (250, 1, 1),
])
def test_timer_period(poll_ms: int, every: int | None, period: int) -> None:
    target = systemd.Target("/usr/bin/scoot", "/srv/w", "w", "user", "timer", every=every)
    assert f"OnUnitActiveSec={period}s" in lines(
        rendered(target, config(poll_ms=poll_ms))["w-tick.timer"])


def test_user_units_carry_no_hardening_and_system_units_no_privilege_breakers() -> None:
    for scope in systemd.SCOPES:
        for kind in systemd.KINDS:
            target = systemd.Target("/usr/bin/scoot", "/srv/w", "w", scope, kind)
            for text in rendered(target).values():
                for word in ("NoNewPrivileges", "RestrictSUIDSGID", "RestrictNamespaces",
                             "SystemCallFilter", "PrivateTmp", "ProtectSystem", "ProtectHome",
                             "PrivateUsers", "PrivateDevices", "ProtectKernel"):
                    assert word not in text
                if scope == "user":
                    assert "LockPersonality" not in text and "RestrictRealtime" not in text


def test_nasty_values_reach_the_unit_escaped() -> None:
    target = systemd.Target("/opt/50% $X/scoot", "/srv/a\"b'c $HOME %h \\", "n", "user", "daemon")
    got = lines(rendered(target)["n.service"])
    assert 'ExecStart="/opt/50%% $X/scoot" "daemon" "run"' in got
    assert 'Environment="SCOOT_HOME=/srv/a\\"b\'c $HOME %%h \\\\"' in got
    # Description= takes text verbatim apart from specifiers; the home sits inside
    # parentheses so its trailing backslash does not end the line
    assert "Description=Scoot daemon (/srv/a\"b'c $HOME %%h \\)" in got


@pytest.mark.parametrize("bad_home", ["/srv/line\nbreak", "/srv/cr\rhere"])
def test_a_line_break_in_the_home_is_refused(bad_home: str) -> None:
    with pytest.raises(ScootError) as e:
        systemd.render(systemd.Target("/usr/bin/scoot", bad_home, "n"), DEFAULTS)
    assert repr(bad_home) in e.value.message


def test_install_dir() -> None:
    assert systemd.install_dir("system", {}) == Path("/etc/systemd/system")
    assert systemd.install_dir("user", {"XDG_CONFIG_HOME": "/x/cfg"}) == Path("/x/cfg/systemd/user")
    home_default = Path.home() / ".config/systemd/user"
    assert systemd.install_dir("user", {}) == home_default
    assert systemd.install_dir("user", {"XDG_CONFIG_HOME": "relative"}) == home_default


# --- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(("home", "name"), [
    ("/home/alice/.scoot", "scoot"),
    ("/srv/web", "scoot-web"),
    ("/srv/web-2.prod_x", "scoot-web-2.prod_x"),
    ("/srv/.scoot-web", "scoot-.scoot-web"),
])
def test_default_name(home: str, name: str) -> None:
    assert default_name(Path(home)) == name


def test_default_names_of_nasty_folders_are_safe_and_distinct() -> None:
    folders = [*NASTY_FOLDERS, "my_home", "a" * 300, "a" * 301]
    names = [default_name(Path("/srv") / f) for f in folders]
    assert len(set(names)) == len(names)
    for name in names:
        assert check_name(name) == name and len(name) <= MAX_NAME
    assert default_name(Path("/srv/my home")).startswith("scoot-my_home-")


@pytest.mark.parametrize("bad", ["", "a b", "a@b", "x/y", ".hidden", "web.service\n", "é",
                                 "a" * (MAX_NAME + 1), "a\\x20b", "a:b"])
def test_bad_names_are_usage_errors(bad: str) -> None:
    with pytest.raises(ScootError) as e:
        check_name(bad)
    assert e.value.exit_code == ExitCode.USAGE


def test_running_scoot_keeps_symlinks_and_falls_back_to_path(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    assert running_scoot(str(SCOOT)) == str(SCOOT)
    link_dir = tmp_path / "opt" / "bin"
    link_dir.mkdir(parents=True)
    (link_dir / "scoot").symlink_to(SCOOT)
    assert running_scoot(str(link_dir / "scoot")) == str(link_dir / "scoot")
    monkeypatch.setenv("PATH", str(link_dir))
    assert running_scoot("/nonexistent/scoot") == str(link_dir / "scoot")
    assert running_scoot("-c") == str(link_dir / "scoot")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ScootError, match="cannot find"):
        running_scoot("/nonexistent/scoot")


# --- systemd-analyze verify ------------------------------------------------------------


def write_units(folder: Path, files: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    return paths


@pytest.fixture
def nasty_scoot(tmp_path: Path) -> str:
    """The real scoot, reached through a folder whose name needs every escape that
    systemd allows in a program path (it refuses quotes, backslashes, controls)."""
    folder = tmp_path / "bin 50% %h $X ${Y} ; ✓"
    folder.mkdir()
    (folder / "scoot").symlink_to(SCOOT)
    return str(folder / "scoot")


@pytest.mark.parametrize("scope", systemd.SCOPES)
@pytest.mark.parametrize("kind", systemd.KINDS)
def test_every_generated_unit_verifies(scope: systemd.Scope, kind: systemd.Kind, tmp_path: Path,
                                       nasty_scoot: str) -> None:
    homes = ["/home/alice/.scoot", *(f"/srv/{f}" for f in NASTY_FOLDERS)]
    for scoot in (str(SCOOT), nasty_scoot):
        for cfg in (DEFAULTS, config(watchdog_sec=0, stop_timeout_sec=0.5, poll_ms=1)):
            # one verify run per variant, over the units of every home (distinct names)
            folder = tmp_path / f"{len(scoot)}-{cfg.watchdog_sec}"
            paths: list[Path] = []
            for home in homes:
                target = systemd.Target(scoot, home, default_name(Path(home)), scope, kind)
                paths += write_units(folder, rendered(target, cfg))
            assert len(paths) == len(homes) * (1 if kind == "daemon" else 2)
            verify(paths, user=scope == "user")


def test_verify_catches_what_it_should(tmp_path: Path) -> None:
    """The checker itself: a missing ExecStart binary and a warning both fail it."""
    missing = systemd.Target("/nonexistent/scoot", "/srv/w", "w", "user", "daemon")
    with pytest.raises(AssertionError, match="not executable"):
        verify(write_units(tmp_path / "a", rendered(missing)), user=True)
    (tmp_path / "b").mkdir()
    warn = tmp_path / "b" / "w.service"
    warn.write_text(f"[Service]\nExecStart={SCOOT} daemon run\nBogusKey=1\n")
    with pytest.raises(AssertionError, match="BogusKey"):
        verify([warn], user=True)


def test_docs_examples_match_the_code() -> None:
    from units_helpers import REPO

    doc = (REPO / "docs" / "UNITS.md").read_text(encoding="utf-8")
    assert default_name(Path("/srv/my home")) == "scoot-my_home-0c07c2"
    assert "`scoot-my_home-0c07c2` and `scoot-my_home`" in doc
    assert default_name(Path("/srv/scoot/web")) == "scoot-web"
    assert "scoot units systemd --user --kind timer --install --enable" in doc
