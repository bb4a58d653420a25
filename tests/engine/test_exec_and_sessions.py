"""`scoot -e`, `scoot sessions` and the nothing-due tick, through the real binary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scoottest import Scoot, scoot_env

from engine.helpers import all_sessions, events, job


def test_exec_streams_output_and_exits_with_the_goal_status(scoot: Scoot) -> None:
    r = scoot("-e", "echo out; echo err >&2; exit 3", "--mode", "unrestricted")
    assert r.returncode == 3
    assert r.stdout == "out\nerr\n"
    [s] = all_sessions(scoot.home)
    assert s["trigger"] == "exec" and s["job"] is None and s["status"] == "failed"
    assert s["id"].split("-")[1] == "exec"
    assert (scoot.home.session_dir(s["id"]) / "output.log").read_text() == "out\nerr\n"
    [start] = events(scoot.home, "run_start")
    assert start["job"] is None and start["trigger"] == "exec"


def test_exec_killed_by_a_signal_exits_128_plus_n(scoot: Scoot) -> None:
    r = scoot("-e", "kill -TERM $$", "--mode", "unrestricted")
    assert r.returncode == 128 + 15
    [s] = all_sessions(scoot.home)
    assert s["signal"] == 15 and s["exit_code"] is None and s["status"] == "failed"


def test_exec_needs_no_config_but_refuses_a_broken_one(scoot: Scoot) -> None:
    scoot.home.config.unlink()
    assert scoot("-e", "true", "--mode", "unrestricted").returncode == 0
    scoot.home.config.write_text("[schedule\n")
    r = scoot("-e", "true", "--mode", "unrestricted")
    assert r.returncode == 78 and r.stderr.startswith("scoot: config error: ")


def test_exec_readonly_is_confined_or_refused_never_unconfined(scoot: Scoot,
                                                                tmp_path: Path) -> None:
    target = tmp_path / "escaped"
    # No terminal: guarded (the default policy) is coerced to readonly.
    r = scoot("-e", f"touch {target}; echo ran")
    [s] = all_sessions(scoot.home)
    assert s["requested_mode"] == "guarded" and s["effective_mode"] == "readonly"
    assert not target.exists()
    if r.returncode == 77:
        assert s["status"] == "refused"
        assert r.stderr.startswith("scoot: refused: ") and r.stderr.count("\n") == 1
        assert events(scoot.home, "run_refused")
    else:
        assert s["sandbox"] and "ran" in r.stdout and r.returncode == 0


def test_sessions_list_and_show(scoot: Scoot) -> None:
    scoot.write_config(job("a", "echo from-a"))
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    assert scoot("-e", "echo from-exec", "--mode", "unrestricted").returncode == 0
    listed = json.loads(scoot("sessions", "list", "--json").stdout)
    assert [s["trigger"] for s in listed] == ["exec", "every_sec"]  # newest first
    assert len(json.loads(scoot("sessions", "list", "--json", "-n", "1").stdout)) == 1
    only_a = json.loads(scoot("sessions", "list", "--job", "a", "--json").stdout)
    assert [s["job"] for s in only_a] == ["a"]
    table = scoot("sessions", "list").stdout.splitlines()
    assert table[0].split() == ["ID", "JOB", "TRIGGER", "MODE", "STATUS", "STARTED"]
    assert len(table) == 3
    shown = scoot("sessions", "show", only_a[0]["id"])
    assert shown.returncode == 0 and "from-a" in shown.stdout and "status" in shown.stdout
    missing = scoot("sessions", "show", "nope")
    assert missing.returncode == 1 and 'no session "nope"' in missing.stderr


PROBE = """
import sys
from scoot.entry import main
code = main(["schedule", "run", "--ticks", "1"])
heavy = {"click", "jinja2", "psutil", "croniter", "tomllib"}
print(code, sorted(heavy & set(sys.modules)))
"""


def _tick(scoot: Scoot) -> tuple[int, list[str]]:
    r = subprocess.run([sys.executable, "-c", PROBE], env=scoot_env(scoot.home),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    code, loaded = r.stdout.strip().split(" ", 1)
    return int(code), json.loads(loaded.replace("'", '"'))


def test_a_nothing_due_tick_imports_nothing_heavy(scoot: Scoot) -> None:
    scoot.write_config(job("a", "echo ran") + job("c", "true", 'cron = "0 3 * * *"'))
    code, loaded = _tick(scoot)  # something is due: the full path runs it end to end
    assert code == 0 and "click" in loaded
    assert [s["status"] for s in all_sessions(scoot.home)] == ["ok"]
    code, loaded = _tick(scoot)  # nothing due now: answered from state/wake
    assert code == 0 and loaded == []
    assert len(all_sessions(scoot.home)) == 1
    # A config change invalidates the summary: the full path looks again.
    scoot.write_config(job("a", "echo ran") + job("b", "true"))
    code, loaded = _tick(scoot)
    assert code == 0 and "tomllib" in loaded
    assert sorted(s["job"] for s in all_sessions(scoot.home)) == ["a", "b"]
