"""Daemon lateness (job start - scheduled instant), idle and with every core busy,
beside a systemd user timer with AccuracySec=1ms measured in the same run.

Usage: python bench/lateness.py [--duration 60] [--rate 4] [--mode unrestricted]
                                [--phases idle busy] [--no-systemd]

What is measured, exactly. Every firing starts the same probe under each scheduler:
a tiny C program (compiled here with `gcc -O2 -static`) whose first statement reads
CLOCK_REALTIME and appends `<seconds.nanoseconds> <label>` to a file. So "job start"
is the moment the started job runs its first instruction: fork, exec and the
probe's own start-up (tens of microseconds, static binary) included. Scoot runs it
as its runner (`runner.command = [probe, file]`, the job's goal is the label), so
no shell sits in between. Scoot's `run_start` audit event records `late_ms`, the
moment the child had exec'd (Popen returned) minus the instant, to the microsecond:
the same moment from the scheduler's side, reported beside. Its `ts` has millisecond
resolution only (SPEC §9), truncated; it is reported as a cross-check.
Without gcc the probe is `/bin/sh -c 'LC_ALL=C date +%s.%N ...'`, which adds the
shell's and date's start-up (~2-3 ms here) to every figure alike.
- Scoot: one `at_unix` job per firing, `rate` instants per second at offsets
  1/(2*rate), 3/(2*rate), ... of a second (never on a whole second, where the
  systemd timer fires), for `duration` seconds, in a `scoot daemon run` on a fresh
  home. Each instant is exact and known in advance (at_unix), so
  lateness = recorded time - at_unix. (every_sec jobs are rescheduled from the
  moment they actually fired, so their lateness would not add up over firings;
  at_unix avoids having to reconstruct the instant.)
- systemd: a user manager of its own (../shared/testing/systemd-user.md), a timer
  `OnCalendar=*-*-* *:*:*` with `AccuracySec=1ms` starting a oneshot service that
  runs the same probe; lateness = recorded time - the whole second it belongs to.
  It fires once a second, so it gets fewer samples than Scoot in the same time.
- floor: a plain Python process that sleeps until its instants (x.25 and x.5 s)
  and starts the same probe with subprocess.Popen, nothing else: what any Python
  scheduler pays at the least on this machine at that moment.
- busy: one `while True: pass` Python process per CPU, started before the phase and
  killed after it, at the default nice level, competing with both schedulers.
Budget (SPEC §13): Scoot p50 <= 1 ms, p99 <= 5 ms, also with every core busy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import bench_python, clean_env, make_home, report, scoot_install, summary

from scoot.timeutil import parse_iso

SYSTEMD = Path("/usr/lib/systemd/systemd")


PROBE_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);  /* first thing: this is "job start" */
    if (argc < 3) return 2;
    char line[256];
    int n = snprintf(line, sizeof line, "%lld.%09ld %s\n",
                     (long long)ts.tv_sec, ts.tv_nsec, argv[2]);
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd < 0 || write(fd, line, n) != n) return 1;
    return 0;
}
"""

SHELL_PROBE = 'LC_ALL=C date "+%s.%N $1" >> "$0"'  # sh -c SCRIPT OUT LABEL


def build_probe(folder: Path) -> list[str]:
    """The probe's argv prefix (the output file and the label follow)."""
    source, binary = folder / "probe.c", folder / "probe"
    source.write_text(PROBE_C)
    for flags in (["-static"], []):
        r = subprocess.run(["gcc", "-O2", *flags, "-o", str(binary), str(source)],
                           capture_output=True)
        if r.returncode == 0:
            return [str(binary)]
    print("no C compiler: the probe is sh + date (slower)", file=sys.stderr)
    return ["/bin/sh", "-c", SHELL_PROBE]


# The floor: a plain Python process that sleeps until each instant and starts the
# probe with subprocess.Popen, nothing else (no state, no audit, no thread).
FLOOR = """
import json, subprocess, sys, time
probe, out, instants = json.loads(sys.argv[1]), sys.argv[2], [float(x) for x in sys.argv[3:]]
children = []
for i, t in enumerate(instants):
    time.sleep(max(0.0, t - time.time()))
    children.append(subprocess.Popen([*probe, out, f"floor{i}"]))
for c in children:
    c.wait()
"""


class UserManager:
    """A systemd user manager in a private mount namespace, as in tests/conftest.py."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = clean_env(XDG_RUNTIME_DIR=str(root / "run"),
                             XDG_CONFIG_HOME=str(root / "config"))
        (root / "run").mkdir(mode=0o700, parents=True)
        self.units = root / "config" / "systemd" / "user"
        self.units.mkdir(parents=True)
        self.log = open(root / "manager.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /run/systemd && "
             f"mkdir /run/systemd/system && exec {SYSTEMD} --user"],
            env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 20
        while not (root / "run" / "systemd" / "private").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("systemd user manager did not start: "
                                   + (root / "manager.log").read_text(errors="replace")[-500:])
            time.sleep(0.05)

    def systemctl(self, *args: str) -> None:
        subprocess.run(["systemctl", "--user", *args], env=self.env, check=True,
                       capture_output=True, timeout=30)

    def install_timer(self, probe: list[str], out: Path) -> None:
        # `%` is systemd's specifier character: `%%` passes one through.
        argv = " ".join(f'"{a}"' for a in [*probe, str(out), "systemd"]).replace("%", "%%")
        (self.units / "lateness.service").write_text(
            "[Unit]\nDescription=lateness probe\n\n"
            f"[Service]\nType=oneshot\nExecStart={argv}\n")
        (self.units / "lateness.timer").write_text(
            "[Unit]\nDescription=lateness probe timer\n\n"
            "[Timer]\nOnCalendar=*-*-* *:*:*\nAccuracySec=1ms\n")
        self.systemctl("daemon-reload")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.systemctl("exit")
                self.proc.wait(15)
            except (subprocess.SubprocessError, OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def at_jobs(start: float, rate: int, duration: float,
            mode: str) -> tuple[dict[str, float], str]:
    instants = {}
    step = 1.0 / rate
    for i in range(int(duration * rate)):
        instants[f"lat{i}"] = start + step / 2 + i * step
    text = "".join(
        f'[[schedule.jobs]]\nid = "{label}"\ngoal = "{label}"\n'
        f'at_unix = {t!r}\nmode = "{mode}"\n\n'
        for label, t in instants.items()
    )
    return instants, text


def read_records(path: Path) -> list[tuple[float, str]]:
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        stamp, label = line.split()
        records.append((float(stamp), label))
    return records


def phase(name: str, scoot: Path, tmp: Path, manager: UserManager | None, probe: list[str],
          args: Any) -> dict[str, Any]:
    folder = tmp / name
    folder.mkdir()
    scoot_out, systemd_out = folder / "scoot.txt", folder / "systemd.txt"
    start = math.ceil(time.time()) + 4.0  # time for the daemon to start
    instants, jobs = at_jobs(start, args.rate, args.duration, args.mode)
    home = make_home(scoot, folder / "home", jobs)
    config = home / "config.toml"
    runner = json.dumps([*probe, str(scoot_out)])
    config.write_text(config.read_text().replace('command = ["/bin/sh", "-c"]',
                                                 f"command = {runner}", 1))
    floor_out = folder / "floor.txt"
    # Between Scoot's instants and off the whole second: x.25, x.5 (x.75 is Scoot's
    # x.625 + 1/8 away as well), so the three never start together.
    floor_instants = [start + k + f for k in range(int(args.duration)) for f in (0.25, 0.5)]
    hogs: list[subprocess.Popen[bytes]] = []
    if name == "busy":
        hogs = [subprocess.Popen([str(bench_python()), "-c", "while True: pass"])
                for _ in range(os.cpu_count() or 1)]
    daemon = subprocess.Popen([str(scoot), "daemon", "run"], env=clean_env(SCOOT_HOME=str(home)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    floor = subprocess.Popen([str(bench_python()), "-c", FLOOR, json.dumps(probe),
                              str(floor_out), *map(repr, floor_instants)])
    try:
        if manager is not None:
            manager.install_timer(probe, systemd_out)
            manager.systemctl("start", "lateness.timer")
        end = start + args.duration + 2.0
        while time.time() < end and len(read_records(scoot_out)) < len(instants):
            time.sleep(0.5)
        time.sleep(max(0.0, min(1.0, end - time.time())))
    finally:
        if manager is not None:
            manager.systemctl("stop", "lateness.timer")
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(60)
        floor.kill()
        floor.wait()
        for hog in hogs:
            hog.kill()
            hog.wait()
    scoot_late = [t - instants[label] for t, label in read_records(scoot_out)]
    audit_late = []
    spawn_late = []
    for line in (home / "logs" / "audit.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == "run_start" and event.get("job") in instants:
            audit_late.append(parse_iso(event["ts"]) - instants[event["job"]])
            if "late_ms" in event:
                spawn_late.append(event["late_ms"] / 1000)
    result: dict[str, Any] = {
        "expected_firings": len(instants),
        "scoot_date_s": scoot_late,
        "scoot_audit_ms_resolution_s": audit_late,
        "scoot_spawn_s": spawn_late,
        "floor_date_s": [t - floor_instants[int(label[5:])]
                         for t, label in read_records(floor_out)],
    }
    if manager is not None:
        result["systemd_date_s"] = [t - math.floor(t) for t, _ in read_records(systemd_out)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--rate", type=int, default=4, help="Scoot firings per second")
    parser.add_argument("--mode", default="unrestricted",
                        choices=("unrestricted", "readonly"),
                        help="the jobs' mode (readonly adds the sandbox wrapper's start)")
    parser.add_argument("--phases", nargs="+", default=["idle", "busy"],
                        choices=("idle", "busy"))
    parser.add_argument("--no-systemd", action="store_true")
    args = parser.parse_args()
    scoot = scoot_install()
    tmp = Path(tempfile.mkdtemp(prefix="scoot-lateness-"))
    manager = None
    if not args.no_systemd:
        if os.geteuid() != 0 or not SYSTEMD.exists() or shutil.which("unshare") is None:
            print("no systemd user manager here (needs root, systemd, unshare): "
                  "measuring Scoot alone", file=sys.stderr)
        else:
            manager = UserManager(tmp / "systemd")
    probe = build_probe(tmp)
    rows = []
    data: dict[str, Any] = {"probe": "static C" if len(probe) == 1 else "sh + date",
                            "duration_s": args.duration, "rate_per_s": args.rate,
                            "mode": args.mode, "phases": {}}
    try:
        for name in args.phases:
            result = phase(name, scoot, tmp, manager, probe, args)
            data["phases"][name] = result
            for key, label in (("scoot_date_s", "scoot (probe in job)"),
                               ("scoot_spawn_s", "scoot run_start late_ms (exec'd)"),
                               ("scoot_audit_ms_resolution_s", "scoot run_start ts (ms)"),
                               ("floor_date_s", "floor: sleep + Popen (probe in job)"),
                               ("systemd_date_s", "systemd timer (probe in job)")):
                values = result.get(key)
                if not values:
                    continue
                s = summary(values)
                result[key + "_stats"] = s
                rows.append((name, label, s["n"], s["p50"] * 1e3, s["p95"] * 1e3,
                             s["p99"] * 1e3, s["max"] * 1e3))
            missing = result["expected_firings"] - len(result["scoot_date_s"])
            if missing:
                print(f"[{name}] {missing} scoot firings did not record", file=sys.stderr)
        scoot_p50 = {n: data["phases"][n]["scoot_date_s_stats"]["p50"] for n in args.phases}
        if manager is not None:
            data["ratio_systemd_over_scoot_p50"] = {
                n: data["phases"][n]["systemd_date_s_stats"]["p50"] / scoot_p50[n]
                for n in args.phases if data["phases"][n].get("systemd_date_s")}
    finally:
        if manager is not None:
            manager.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report("lateness", ["phase", "what", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows, data)


if __name__ == "__main__":
    main()
