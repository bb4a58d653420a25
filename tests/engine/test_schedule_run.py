"""`scoot schedule run` and `schedule fire` through the real binary."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

from scoottest import SCOOT, Scoot, need, scoot_env, wait_for

from engine.helpers import all_sessions, events, job
from scoot.procs import pid_alive
from scoot.sessions import KEYS


def test_a_disabled_schedule_refuses_with_the_exact_line(scoot: Scoot) -> None:
    scoot.write_config(job("a", "true"), enabled=False)
    r = scoot("schedule", "run", "--ticks", "1")
    assert r.returncode == 78
    assert r.stderr == (f"[scoot] schedule is disabled: set [schedule] enabled = true in "
                        f"{scoot.home.config}\n")
    assert not scoot.home.daemon_json.exists() and not scoot.home.daemon_pid.exists()


def test_a_tick_runs_the_due_job_and_records_a_full_session(scoot: Scoot) -> None:
    scoot.write_config(
        job("envjob", "env | sort; exit 4", extra='env = { JOB_Y = "2" }'),
        extra='[runner]\nenv = { RUNNER_X = "1" }\n',
    )
    r = scoot("schedule", "run", "--ticks", "1",
              env={"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1", "WATCHDOG_PID": "1"})
    assert r.returncode == 0, r.stderr  # a failing job does not change the exit status
    [s] = all_sessions(scoot.home)
    assert set(KEYS) <= set(s)
    assert s["job"] == "envjob" and s["trigger"] == "every_sec"
    assert s["status"] == "failed" and s["exit_code"] == 4 and s["signal"] is None
    assert s["requested_mode"] == s["effective_mode"] == "unrestricted"
    assert s["id"].startswith(s["started_at"][:4]) and "-envjob-" in s["id"]
    assert s["finished_at"] and isinstance(s["pid"], int)
    folder = scoot.home.session_dir(s["id"])
    lines = (folder / "output.log").read_text().splitlines()
    assert s["output_bytes"] == len((folder / "output.log").read_bytes())
    env = dict(line.split("=", 1) for line in lines if "=" in line)
    assert env["SCOOT_HOME"] == str(scoot.home.root)
    assert env["SCOOT_JOB_ID"] == "envjob"
    assert env["SCOOT_SESSION_ID"] == s["id"]
    assert env["SCOOT_MODE"] == "unrestricted"
    assert env["SCOOT_SCRATCH"] == str(folder / "scratch")
    assert env["RUNNER_X"] == "1" and env["JOB_Y"] == "2"
    assert not {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} & set(env)
    [start] = events(scoot.home, "run_start")
    assert start["session"] == s["id"] and start["unrestricted"] is True
    [end] = events(scoot.home, "run_end")
    assert end["status"] == "failed" and end["exit_code"] == 4
    assert next(e["event"] for e in events(scoot.home)) == "schedule_start"
    assert events(scoot.home, "schedule_stop")[0]["reason"] == "ticks"


def test_a_custom_runner_gets_the_goal_as_its_last_argument(scoot: Scoot) -> None:
    scoot.write_config(job("r", "the goal; with spaces"),
                       extra='[runner]\ncommand = ["/bin/sh", "-c", "echo \\"last=$1\\"", "x"]\n')
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    [s] = all_sessions(scoot.home)
    log = scoot.home.session_dir(s["id"]) / "output.log"
    assert log.read_text() == "last=the goal; with spaces\n"
    assert s["status"] == "ok"


def test_output_is_capped_with_a_marker(scoot: Scoot) -> None:
    scoot.write_config(job("big", "head -c 5000 /dev/zero | tr '\\0' a; echo done >&2"),
                       extra="[runner]\noutput_max_bytes = 1000\n")
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    [s] = all_sessions(scoot.home)
    data = (scoot.home.session_dir(s["id"]) / "output.log").read_bytes()
    assert data == b"a" * 1000 + b"\n[scoot] output truncated at 1000 bytes\n"
    assert s["output_truncated"] is True and s["output_bytes"] == 5005
    assert s["status"] == "ok"  # the run was drained to its end


def test_a_timeout_ends_the_whole_process_group(scoot: Scoot) -> None:
    scoot.write_config(job("slow", 'sleep 60 & echo $! > "$SCOOT_SCRATCH/bg"; sleep 60',
                           extra="timeout_sec = 1"))
    start = time.monotonic()
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    assert time.monotonic() - start < 10
    [s] = all_sessions(scoot.home)
    assert s["status"] == "timeout" and s["signal"] == signal.SIGTERM
    bg = int((scoot.home.session_dir(s["id"]) / "scratch" / "bg").read_text())
    wait_for(lambda: not pid_alive(bg), timeout=5)


def test_a_job_never_overlaps_itself_in_one_loop(scoot: Scoot) -> None:
    scoot.write_config(job("tick", "sleep 1.6", "every_sec = 1"), poll_ms=100)
    r = scoot("schedule", "run", "--ticks", "14")
    assert r.returncode == 0, r.stderr
    skipped = events(scoot.home, "run_skipped")
    assert skipped and skipped[0]["job"] == "tick" and skipped[0]["reason"] == "still running"
    assert len(events(scoot.home, "run_start")) == 1


def test_overlap_holds_across_processes_and_fire_respects_it(scoot: Scoot) -> None:
    scoot.write_config(job("long", "sleep 30"))
    fire = scoot.popen("schedule", "fire", "long")
    try:
        wait_for(lambda: any(s["status"] == "running" for s in all_sessions(scoot.home)))
        r = scoot("schedule", "run", "--ticks", "1")
        assert r.returncode == 0, r.stderr
        assert events(scoot.home, "run_skipped")[0]["reason"] == "still running"
        again = scoot("schedule", "fire", "long")
        assert again.returncode == 75
        assert again.stderr == 'scoot: job "long" is still running\n'
    finally:
        fire.send_signal(signal.SIGTERM)
        out, _ = fire.communicate(timeout=20)
    [s] = all_sessions(scoot.home)
    assert s["trigger"] == "manual" and s["status"] == "interrupted"
    assert fire.returncode == 0 and out == f"session {s['id']}: interrupted\n"


def test_fire_unknown_job_exits_1(scoot: Scoot) -> None:
    scoot.write_config(job("a", "true"))
    r = scoot("schedule", "fire", "nope")
    assert r.returncode == 1 and 'no job "nope"' in r.stderr


def test_a_second_scheduler_says_who_holds_the_home(scoot: Scoot) -> None:
    scoot.write_config(job("a", "true"))
    loop = scoot.popen("schedule", "run")
    try:
        wait_for(lambda: events(scoot.home, "schedule_start"))
        r = scoot("schedule", "run", "--ticks", "1")
        assert r.returncode == 75
        assert f"pid={loop.pid}" in r.stderr and "a schedule holds" in r.stderr
        assert r.stderr.count("\n") == 1
    finally:
        loop.send_signal(signal.SIGTERM)
        loop.communicate(timeout=20)
    assert loop.returncode == 0
    assert events(scoot.home, "schedule_stop")[-1]["reason"] == "SIGTERM"


def test_sigterm_waits_for_runs_then_interrupts_them(scoot: Scoot) -> None:
    scoot.write_config(job("quick", "sleep 0.5; echo done") + job("long", "sleep 60"),
                       extra="[daemon]\nstop_timeout_sec = 1.5\n")
    loop = scoot.popen("schedule", "run")
    wait_for(lambda: len([s for s in all_sessions(scoot.home) if s["pid"]]) == 2)
    sent = time.monotonic()
    loop.send_signal(signal.SIGTERM)
    loop.communicate(timeout=30)
    waited = time.monotonic() - sent
    assert loop.returncode == 0
    assert 1.4 <= waited < 10
    status = {s["job"]: s["status"] for s in all_sessions(scoot.home)}
    assert status == {"quick": "ok", "long": "interrupted"}
    assert events(scoot.home, "schedule_stop")[-1]["reason"] == "SIGTERM"


def test_orphaned_running_sessions_are_marked_interrupted(scoot: Scoot) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    folder = scoot.home.sessions / "20300101T000000Z-a-000000"
    folder.mkdir(parents=True)
    (folder / "session.json").write_text(json.dumps({
        "id": folder.name, "job": "a", "status": "running", "scheduler_pid": dead.pid,
        "started_at": "2030-01-01T00:00:00.000Z"}))
    scoot.write_config("")
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    record = json.loads((folder / "session.json").read_text())
    assert record["status"] == "interrupted" and record["finished_at"]
    assert any(e.get("orphaned") for e in events(scoot.home, "run_end"))


def test_sighup_reloads_and_keeps_the_old_config_when_invalid(scoot: Scoot) -> None:
    scoot.write_config(job("a", "true"), poll_ms=100)
    loop = scoot.popen("schedule", "run")
    try:
        wait_for(lambda: events(scoot.home, "run_end"))
        scoot.home.config.write_text("[schedule\n")
        loop.send_signal(signal.SIGHUP)
        bad = wait_for(lambda: events(scoot.home, "config_invalid"))
        assert "config error" in bad[0]["reason"]
        scoot.write_config(job("a", "true") + job("b", "true"), poll_ms=100)
        loop.send_signal(signal.SIGHUP)
        wait_for(lambda: events(scoot.home, "config_reloaded"))
        wait_for(lambda: [e for e in events(scoot.home, "run_end") if e["job"] == "b"])
    finally:
        loop.send_signal(signal.SIGINT)
        loop.communicate(timeout=20)
    assert loop.returncode == 0
    assert events(scoot.home, "schedule_stop")[-1]["reason"] == "SIGINT"
    assert len(events(scoot.home, "run_start")) == 2  # "a" did not fire again


def test_a_readonly_job_runs_confined_or_is_refused_never_unconfined(scoot: Scoot,
                                                                      tmp_path: Path) -> None:
    target = tmp_path / "escaped"
    scoot.write_config(job("ro", f"touch {target}", mode="guarded"))
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    [s] = all_sessions(scoot.home)
    assert s["requested_mode"] == "guarded" and s["effective_mode"] == "readonly"
    assert not target.exists()
    if s["status"] == "refused":
        [refused] = events(scoot.home, "run_refused")
        assert refused["session"] == s["id"] and refused["reason"]
        assert not events(scoot.home, "run_start")
    else:
        assert s["sandbox"], s
        assert events(scoot.home, "run_start")[0]["sandbox"] == s["sandbox"]


def test_cron_windows_and_catch_up_under_faketime(scoot: Scoot) -> None:
    if shutil.which("faketime") is None:
        need("faketime", "SCOOT_REQUIRE_FAKETIME", "apt-get install faketime")
    scoot.write_config(job("c", "true", 'cron = "* * * * *"'))

    def tick(at: str) -> None:
        r = subprocess.run(
            ["faketime", "-f", f"@{at}", str(SCOOT), "schedule", "run", "--ticks", "1"],
            env=scoot_env(scoot.home), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr

    tick("2030-01-01 00:01:30")  # a new home: 00:01:00 is in the past
    assert not events(scoot.home, "run_start")
    tick("2030-01-01 00:05:30")  # 00:02..00:05 were passed: one run standing for 4
    [start] = events(scoot.home, "run_start")
    assert start["missed"] == 4 and start["trigger"] == "cron"
    tick("2030-01-01 00:03:10")  # the clock went back: nothing fires twice
    tick("2030-01-01 00:05:40")
    assert len(events(scoot.home, "run_start")) == 1
    tick("2030-01-01 00:06:05")
    assert [e["missed"] for e in events(scoot.home, "run_start")] == [4, 1]



def test_a_run_orphaned_by_a_killed_scheduler_is_ended_at_the_next_start(scoot: Scoot) -> None:
    scoot.write_config(job("long", "sleep 300", "every_sec = 3600"), poll_ms=100)
    loop = scoot.popen("schedule", "run")
    [s] = wait_for(lambda: [x for x in all_sessions(scoot.home) if x["pid"]], timeout=10)
    loop.send_signal(signal.SIGKILL)  # no chance to end its run
    loop.wait(timeout=10)
    assert pid_alive(s["pid"]), "the run outlives its scheduler"
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    wait_for(lambda: not pid_alive(s["pid"]), timeout=5)
    record = json.loads((scoot.home.session_dir(s["id"]) / "session.json").read_text())
    assert record["status"] == "interrupted"
    assert record["reason"] == "its scheduler ended without finishing it; its processes were ended"
    [end] = [e for e in events(scoot.home, "run_end") if e["session"] == s["id"]]
    assert end["orphaned"] is True and end["ended"] is True


def test_fires_journaled_before_a_crash_are_never_repeated(scoot: Scoot) -> None:
    # A crash after the runs started but before schedule.json recorded their fires
    # is simulated by putting back the schedule.json of before the cycle.
    scoot.write_config(job("once", "echo ran", "at_unix = 1"))
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0  # a new home's first cycle
    assert len(all_sessions(scoot.home)) == 1
    scoot.write_config(job("once", "echo ran", "at_unix = 2"))  # a new one-shot
    before = scoot.home.schedule_json.read_bytes()
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    assert len(all_sessions(scoot.home)) == 2
    last = scoot.home.fire_journal.read_text().splitlines()[-1].split()
    assert last[:2] == [str(json.loads(scoot.home.schedule_json.read_text())["fire_seq"]), "once"]

    scoot.home.schedule_json.write_bytes(before)  # "the crash": the save never happened
    scoot.home.wake_file.unlink(missing_ok=True)
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    assert len(all_sessions(scoot.home)) == 2, "the journal must keep the fire from repeating"
    assert json.loads(scoot.home.schedule_json.read_text())["jobs"]["once"]["fired"] is True

    # Control: without the journal the same restored state does fire again.
    scoot.home.schedule_json.write_bytes(before)
    scoot.home.fire_journal.unlink()
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    assert len(all_sessions(scoot.home)) == 3


def test_run_start_says_how_late_the_job_started(scoot: Scoot) -> None:
    scoot.write_config(job("now", "true", "every_sec = 60"))
    assert scoot("schedule", "run", "--ticks", "1").returncode == 0
    [start] = events(scoot.home, "run_start")
    assert isinstance(start["late_ms"], float) and 0 <= start["late_ms"] < 5000
