"""launchd plists: golden files, plistlib round trip, libplist's plistutil."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest
from units_helpers import NASTY_FOLDERS, check_golden, plistutil_roundtrip

from scoot.config import Config
from scoot.errors import ScootError
from scoot.units import launchd

DEFAULTS = Config(path=Path("config.toml"))


def render_one(agent: launchd.Agent, cfg: Config = DEFAULTS) -> tuple[str, str]:
    [plist] = launchd.render(agent, cfg)
    return plist.name, plist.text


GOLDEN_CASES = [
    ("daemon-default", launchd.Agent("/opt/homebrew/opt/scoot/bin/scoot", "/Users/al/.scoot", "scoot"),
     DEFAULTS),
    ("timer-poll-2500ms", launchd.Agent("/usr/local/bin/scoot", "/Users/al/.scoot", "scoot", "timer"),
     Config(path=Path("c"), poll_ms=2500, stop_timeout_sec=7.5)),
    ("daemon-nasty-home",
     launchd.Agent("/opt/a&b <c>/scoot", "/Users/al/<x> & 'a' \"b\" $HOME ~ %i \\ ✓", "scoot-x"),
     DEFAULTS),
]


@pytest.mark.parametrize(("prefix", "agent", "cfg"), GOLDEN_CASES, ids=[c[0] for c in GOLDEN_CASES])
def test_golden(prefix: str, agent: launchd.Agent, cfg: Config) -> None:
    name, text = render_one(agent, cfg)
    check_golden(f"launchd/{prefix}/{name}", text)


def test_daemon_plist() -> None:
    agent = launchd.Agent("/opt/homebrew/opt/scoot/bin/scoot", "/Users/al/.scoot", "scoot")
    name, text = render_one(agent, Config(path=Path("c"), stop_timeout_sec=30))
    assert name == "io.scoot.scoot.plist"
    assert plistlib.loads(text.encode()) == {
        "Label": "io.scoot.scoot",
        "ProgramArguments": ["/opt/homebrew/opt/scoot/bin/scoot", "daemon", "run"],
        "EnvironmentVariables": {"SCOOT_HOME": "/Users/al/.scoot"},
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ProcessType": "Background",
        "ExitTimeOut": 45,
        "StandardOutPath": "/Users/al/.scoot/logs/daemon.stdout.log",
        "StandardErrorPath": "/Users/al/.scoot/logs/daemon.stderr.log",
    }


@pytest.mark.parametrize(("poll_ms", "every", "interval"), [(1000, None, 1), (1500, None, 2),
                                                            (100, None, 1), (1000, 90, 90)])
def test_timer_plist(poll_ms: int, every: int | None, interval: int) -> None:
    agent = launchd.Agent("/usr/local/bin/scoot", "/Users/al/web", "scoot-web", "timer", every)
    name, text = render_one(agent, Config(path=Path("c"), poll_ms=poll_ms))
    plist = plistlib.loads(text.encode())
    assert name == "io.scoot.scoot-web.plist" and plist["Label"] == "io.scoot.scoot-web"
    assert plist["ProgramArguments"] == ["/usr/local/bin/scoot", "schedule", "run", "--ticks", "1"]
    assert plist["StartInterval"] == interval
    assert plist["RunAtLoad"] is True and "KeepAlive" not in plist
    assert plist["StandardErrorPath"] == "/Users/al/web/logs/tick.stderr.log"


@pytest.mark.parametrize("folder", [*NASTY_FOLDERS, "<x> & </string>", "]]>"])
def test_nasty_homes_survive_plistlib_and_plistutil(folder: str, tmp_path: Path) -> None:
    home = f"/Users/al/{folder}"
    scoot = f"/opt/{folder}/scoot"
    for kind in launchd.KINDS:
        agent = launchd.Agent(scoot, home, "scoot-x", kind)
        name, text = render_one(agent)
        expected = launchd.properties(agent, DEFAULTS)
        assert plistlib.loads(text.encode()) == expected
        assert expected["EnvironmentVariables"]["SCOOT_HOME"] == home
        assert expected["ProgramArguments"][0] == scoot
        path = tmp_path / kind / name
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        assert plistlib.loads(plistutil_roundtrip(path, tmp_path / kind)) == expected


@pytest.mark.parametrize(("scoot", "home"), [
    ("/usr/bin/scoot", "/Users/al/line\nbreak"),
    ("/usr/bin/scoot", "/Users/al/cr\rhere"),  # XML would turn it into \n silently
    ("/usr/bin/scoot", "/Users/al/bell\a"),  # plistlib cannot encode control characters
    ("/usr/bin/scoot", "relative/home"),
    ("~/bin/scoot", "/Users/al/.scoot"),  # no shell: `~` would reach launchd literally
])
def test_refused_values_name_the_value(scoot: str, home: str) -> None:
    with pytest.raises(ScootError) as e:
        launchd.render(launchd.Agent(scoot, home, "scoot"), DEFAULTS)
    assert "\n" not in e.value.message


def test_plistutil_check_is_real(tmp_path: Path) -> None:
    """plistutil exits 0 on failure: the helper must still notice."""
    bad = tmp_path / "bad.plist"
    bad.write_text("<plist><dict><key>x</key></plist>")
    with pytest.raises(AssertionError):
        plistutil_roundtrip(bad, tmp_path)
