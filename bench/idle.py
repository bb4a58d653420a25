"""An idle daemon with 50 jobs: memory, CPU and wake-ups over a window (default 60 s).

Usage: python bench/idle.py [--duration 60] [--jobs 50] [--poll-ms 1000] [--watchdog-sec 30]

`scoot daemon run` runs on a home with `--jobs` cron jobs due months from now, under a
NOTIFY_SOCKET this script listens on and with WATCHDOG_USEC set (as systemd would with
`WatchdogSec=`), so the watchdog pings are part of what is counted. The window starts
at READY=1 (start-up excluded). Read from /proc/<pid>:
- RSS: VmRSS and VmHWM (peak) from status, at the end of the window;
- CPU: utime + stime from stat, the difference over the window;
- wake-ups: voluntary context switches from status (every thread of the process),
  the difference over the window, beside the cycles the daemon counted (daemon.json
  `ticks`) and the WATCHDOG=1 datagrams received. The loop sleeps poll_ms at a time
  (shorter only for a due job or a watchdog ping), so about duration / poll_ms cycles
  are expected and no more; each cycle may block a few times in fsync/select, so
  context switches per cycle are reported too.
Baseline (same run, side by side): `python -I -c "import time; time.sleep(...)"`,
its RSS and its context switches over the same window.
Budget (SPEC §13): <= 20 MB RSS; no wake-ups beyond poll_ms and the watchdog.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import bench_python, clean_env, cron_jobs, make_home, report, scoot_install

TICK = os.sysconf("SC_CLK_TCK")


def proc_sample(pid: int) -> dict[str, float]:
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        status[key] = value.split()[0] if value.split() else ""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    voluntary = involuntary = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith("voluntary_ctxt_switches"):
                voluntary += int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches"):
                involuntary += int(line.split()[1])
    return {"rss_kb": float(status["VmRSS"]), "hwm_kb": float(status["VmHWM"]),
            "cpu_s": (utime + stime) / TICK, "voluntary": voluntary,
            "involuntary": involuntary, "threads": float(status["Threads"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--poll-ms", type=int, default=1000)
    parser.add_argument("--watchdog-sec", type=int, default=30,
                        help="WATCHDOG_USEC given to the daemon (0: none)")
    args = parser.parse_args()
    scoot = scoot_install()
    with tempfile.TemporaryDirectory() as tmp:
        home = make_home(scoot, Path(tmp) / "home", cron_jobs(args.jobs), poll_ms=args.poll_ms)
        sock_path = Path(tmp) / "notify.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(sock_path))
        extra = {"SCOOT_HOME": str(home), "NOTIFY_SOCKET": str(sock_path)}
        if args.watchdog_sec:
            extra["WATCHDOG_USEC"] = str(args.watchdog_sec * 1_000_000)
        daemon = subprocess.Popen([str(scoot), "daemon", "run"], env=clean_env(**extra),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        baseline = subprocess.Popen([str(bench_python()), "-I", "-c",
                                     f"import time; time.sleep({args.duration + 30})"])
        try:
            sock.settimeout(60)
            while "READY=1" not in sock.recv(4096).decode().split("\n"):
                pass
            state0 = json.loads((home / "state" / "daemon.json").read_text())
            d0, b0 = proc_sample(daemon.pid), proc_sample(baseline.pid)
            pings = 0
            end = time.monotonic() + args.duration
            while (left := end - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    msg = sock.recv(4096).decode()
                except TimeoutError:
                    break
                pings += "WATCHDOG=1" in msg.split("\n")
            d1, b1 = proc_sample(daemon.pid), proc_sample(baseline.pid)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(60)
            baseline.kill()
            baseline.wait()
            sock.close()
        state1 = json.loads((home / "state" / "daemon.json").read_text())
    cycles = int(state1["ticks"]) - int(state0["ticks"])
    expected = args.duration * 1000 / args.poll_ms
    wakes = d1["voluntary"] - d0["voluntary"]
    cpu = d1["cpu_s"] - d0["cpu_s"]
    data: dict[str, Any] = {
        "duration_s": args.duration, "jobs": args.jobs, "poll_ms": args.poll_ms,
        "watchdog_sec": args.watchdog_sec, "daemon": {"start": d0, "end": d1},
        "baseline": {"start": b0, "end": b1}, "cycles": cycles,
        "expected_cycles": expected, "watchdog_pings": pings,
        "rss_mb": d1["rss_kb"] / 1024, "cpu_s": cpu,
        "voluntary_switches": wakes,
    }
    rows = [
        ("RSS MB (VmRSS)", d1["rss_kb"] / 1024, b1["rss_kb"] / 1024,
         d1["rss_kb"] / b1["rss_kb"]),
        ("peak RSS MB (VmHWM)", d1["hwm_kb"] / 1024, b1["hwm_kb"] / 1024,
         d1["hwm_kb"] / b1["hwm_kb"]),
        ("CPU ms over the window", cpu * 1000, (b1["cpu_s"] - b0["cpu_s"]) * 1000, "-"),
        ("CPU % of one core", cpu / args.duration * 100, "-", "-"),
        ("cycles (daemon.json ticks)", cycles, "-", f"{cycles / expected:.2f} of expected"),
        ("expected cycles (duration/poll)", expected, "-", "-"),
        ("WATCHDOG=1 pings", pings, "-", "-"),
        ("voluntary ctx switches", wakes, b1["voluntary"] - b0["voluntary"],
         f"{wakes / max(cycles, 1):.1f} per cycle"),
        ("involuntary ctx switches", d1["involuntary"] - d0["involuntary"],
         b1["involuntary"] - b0["involuntary"], "-"),
        ("threads", d1["threads"], b1["threads"], "-"),
    ]
    report("idle", ["figure", "scoot daemon", "python sleeping", "ratio / note"], rows, data)


if __name__ == "__main__":
    main()
