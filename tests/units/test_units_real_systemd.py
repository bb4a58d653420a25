"""Generated units loaded into a REAL systemd user manager (tests/conftest.py).

What systemd-analyze cannot see is checked here: the argv and environment the
process really receives, timers that fire, readiness, watchdog, reload and stop.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from scoottest import Scoot, UserSystemd, wait_for

from scoot.audit import read_events
from scoot.config import Config
from scoot.home import RuntimeHome
from scoot.units import systemd

pytestmark = pytest.mark.slow

# Every character class the escaping handles, in one folder name (a trailing
# backslash included), and the subset systemd allows in a program's path.
NASTY_HOME = "na me 50% %h %% $HOME ${USER} $$ 'single' \"double\" ; tab\there déjà ✓ back\\"
NASTY_BIN = "bin 50% %h $HOME ${USER} $$ ; déjà ✓"

PROBE = """#!{python}
# Records what systemd handed over, then behaves like the unit's kind expects.
import json, os, signal, socket, sys
status = open("/proc/self/status").read()
nnp = [l.split()[1] for l in status.splitlines() if l.startswith("NoNewPrivs:")][0]
out = {out!r} + "/" + sys.argv[-1] + ".json"
with open(out + ".tmp", "w") as f:
    json.dump({{"argv": sys.argv, "env": dict(os.environ), "nnp": nnp}}, f)
os.rename(out + ".tmp", out)
if os.environ.get("NOTIFY_SOCKET"):  # the daemon kind: Type=notify
    signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGTERM}})
    addr = os.environ["NOTIFY_SOCKET"]
    addr = "\\0" + addr[1:] if addr.startswith("@") else addr
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(b"READY=1", addr)
    signal.sigwait({{signal.SIGTERM}})
"""


def probe_at(folder: Path, out: Path) -> str:
    """A stand-in for scoot at a nasty path that dumps its argv and environment."""
    folder.mkdir(parents=True)
    exe = folder / "scoot"
    exe.write_text(PROBE.format(python=sys.executable, out=str(out)))
    exe.chmod(0o755)
    return str(exe)


def install(sd: UserSystemd, target: systemd.Target, config: Config) -> None:
    for unit in systemd.render(target, config):
        (sd.unit_dir / unit.name).write_text(unit.text, encoding="utf-8")
    sd.systemctl("daemon-reload")


def test_systemd_hands_over_exactly_the_intended_argv_and_environment(
    user_systemd: UserSystemd, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    scoot = probe_at(tmp_path / NASTY_BIN, out)
    home = str(tmp_path / NASTY_HOME)
    config = Config(path=Path("c"), watchdog_sec=0)
    for kind in systemd.KINDS:
        install(user_systemd, systemd.Target(scoot, home, "nasty", "user", kind), config)
    # Type=notify: start returns once the probe sent READY=1
    user_systemd.systemctl("start", "nasty.service")
    user_systemd.systemctl("start", "nasty-tick.service")  # oneshot: returns when done
    daemon = json.loads((out / "run.json").read_text())
    tick = json.loads((out / "1.json").read_text())
    assert daemon["argv"] == [scoot, "daemon", "run"]
    assert tick["argv"] == [scoot, "schedule", "run", "--ticks", "1"]
    for seen in (daemon, tick):
        assert seen["env"]["SCOOT_HOME"] == home  # byte for byte
        # user units carry no directive that implies NoNewPrivileges (sudo in jobs)
        assert seen["nnp"] == "0"
    assert user_systemd.show("nasty.service", "ActiveState")["ActiveState"] == "active"
    user_systemd.systemctl("stop", "nasty.service")


JOB = """
[[schedule.jobs]]
id = "where"
goal = 'printf "%s" "$SCOOT_HOME"'
every_sec = 1
mode = "unrestricted"
"""


def sessions(home: RuntimeHome) -> list[dict[str, Any]]:
    found = []
    for folder in sorted(home.sessions.glob("*")):
        try:
            found.append(json.loads((folder / "session.json").read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            pass  # being written
    return found


def nasty_home(tmp_path: Path, body: str, extra: str = "") -> Scoot:
    home = RuntimeHome(tmp_path / NASTY_HOME)
    scoot = Scoot(home)
    r = scoot("setup")
    assert r.returncode == 0, r.stderr
    scoot.write_config(body, extra=extra, poll_ms=200)
    return scoot


def test_timer_end_to_end_for_a_nasty_home(user_systemd: UserSystemd, tmp_path: Path) -> None:
    scoot = nasty_home(tmp_path, JOB)
    r = scoot("units", "systemd", "--user", "--kind", "timer", "--every", "1", "--install",
              "--enable", env=user_systemd.env)
    assert r.returncode == 0, r.stderr
    unit_dir = user_systemd.unit_dir
    assert f"installed {unit_dir}/scoot-" in r.stdout
    assert "enabled and started scoot-" in r.stdout and "-tick.timer" in r.stdout
    [timer] = [p.name for p in unit_dir.glob("*-tick.timer")]
    assert (unit_dir / "timers.target.wants" / timer).is_symlink()  # enabled
    home = scoot.home
    # the timer fires repeatedly; every tick runs the due job as a new session

    def two_ok() -> list[dict[str, Any]] | None:
        ok = [s for s in sessions(home) if s["status"] == "ok"]
        return ok if len(ok) >= 2 else None

    done = wait_for(two_ok, timeout=30, interval=0.2)
    for session in done:
        assert session["job"] == "where" and session["effective_mode"] == "unrestricted"
        output = (home.session_dir(session["id"]) / "output.log").read_bytes()
        assert output == str(home.root).encode()  # SCOOT_HOME reached the job byte for byte
    events = [e["event"] for e in read_events(home.audit_log)]
    assert events.count("run_start") >= 2 and "run_end" in events
    props = user_systemd.show(timer.replace(".timer", ".service"), "Result", "ExecMainStatus")
    assert props["Result"] == "success"


DAEMON_JOB = """
[[schedule.jobs]]
id = "tick"
goal = "true"
every_sec = 3600
mode = "unrestricted"
"""


def test_daemon_unit_ready_watchdog_restart_reload_stop(user_systemd: UserSystemd,
                                                        tmp_path: Path) -> None:
    scoot = nasty_home(tmp_path, DAEMON_JOB, extra="[daemon]\nwatchdog_sec = 2\n"
                                                  "stop_timeout_sec = 5\n")
    r = scoot("units", "systemd", "--user", "--name", "d", "--install", "--enable",
              env=user_systemd.env)
    assert r.returncode == 0, r.stderr
    assert "enabled and started d.service" in r.stdout
    # `enable --now` returned: with Type=notify that means READY=1 was received
    first = user_systemd.show("d.service", "ActiveState", "SubState", "MainPID", "StatusText",
                              "NRestarts", "WatchdogUSec")
    assert (first["ActiveState"], first["SubState"]) == ("active", "running")
    assert first["WatchdogUSec"] == "2s"
    state = json.loads(scoot.home.daemon_json.read_text())
    assert state["status"] == "running" and state["pid"] == int(first["MainPID"])
    assert state["home"] == str(scoot.home.root)
    wait_for(lambda: user_systemd.show("d.service", "StatusText")["StatusText"], timeout=10)

    # healthy: three watchdog periods pass without a restart
    deadline_pid = first["MainPID"]
    wait_for(lambda: _older_than(int(deadline_pid), 6.5), timeout=15, interval=0.2)
    again = user_systemd.show("d.service", "MainPID", "NRestarts", "ActiveState")
    assert (again["MainPID"], again["NRestarts"], again["ActiveState"]) == (
        deadline_pid, "0", "active")

    # reload: SIGHUP through ExecReload; READY=1 ends it, the daemon re-read its config
    user_systemd.systemctl("reload", "d.service", timeout=30)
    wait_for(lambda: "config_reloaded" in [e["event"] for e in read_events(scoot.home.audit_log)],
             timeout=10)
    assert user_systemd.show("d.service", "MainPID")["MainPID"] == deadline_pid

    # hung: SIGSTOP stops the watchdog pings; systemd kills and restarts it
    os.kill(int(deadline_pid), signal.SIGSTOP)
    restarted = user_systemd.wait_state("d.service", timeout=30, ActiveState="active",
                                        SubState="running", NRestarts="1")
    assert restarted
    new_pid = user_systemd.show("d.service", "MainPID")["MainPID"]
    assert new_pid not in ("0", deadline_pid)
    events = [e["event"] for e in read_events(scoot.home.audit_log)]
    assert "daemon_recovered" in events  # the new daemon noticed the killed one

    # stop: SIGTERM to the main process, a clean stop recorded within TimeoutStopSec
    user_systemd.systemctl("stop", "d.service", timeout=60)
    props = user_systemd.show("d.service", "ActiveState", "Result")
    assert props == {"ActiveState": "inactive", "Result": "success"}
    state = json.loads(scoot.home.daemon_json.read_text())
    assert state["status"] == "stopped" and state["stop_reason"] == "SIGTERM"
    assert not scoot.home.daemon_pid.exists()


def _older_than(pid: int, seconds: float) -> bool:
    """True once process `pid` has run for `seconds` (clock ticks from /proc)."""
    start_ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK") >= seconds
