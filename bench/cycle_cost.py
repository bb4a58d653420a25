"""Daemon cycle cost (10, 1,000, 10,000 jobs) and daemon start time (10,000 jobs).

Usage: python bench/cycle_cost.py [--jobs 10 1000 10000] [--cycles 2000] [--rounds 15]
                                  [--start-jobs 10000] [--start-rounds 10]

Cycle cost is measured through the library: `scoot.loop.Scheduler` with an injected
clock and a starter that records instead of spawning, so a figure is the loop's own
work (heap, triggers, requests, job locks, persisting) and not fork/exec.
  - nothing due: every job is a cron job due months from now; the clock stands still
    just before the earliest instant. Baseline (alternated, same run): one
    `heapq.heappush` + `heapq.heappop` on a heap of the same size.
  - 1 % due: the same home with 1 % of its jobs turned into `every_sec = 1` jobs and
    the clock moved on 1 s per cycle, so each cycle fires exactly 1 % of the jobs.
    A cycle that fires persists schedule.json (temp file, fsync, rename) and the wake
    summary, so this figure includes two fsyncs.
Budget (SPEC §13): a nothing-due cycle with 10,000 jobs <= 1 ms.

Daemon start: from exec of `scoot daemon run` to the READY=1 datagram it sends to a
NOTIFY_SOCKET this script listens on, on a home that has already run once (its
next-due instants are persisted, as on every restart after the first). Baseline
(alternated): exec to exit of `python -I -c pass`. Budget: <= 0.5 s.
"""

from __future__ import annotations

import argparse
import heapq
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import (
    alternate,
    bench_python,
    clean_env,
    cron_jobs,
    make_home,
    report,
    scoot_install,
    summary,
    time_command,
)

from scoot.config import load
from scoot.home import RuntimeHome
from scoot.locks import FileLock
from scoot.loop import Scheduler
from scoot.runs import RunRequest

T0 = 1_893_456_000.0  # 2030-01-01T00:00:00Z: the injected clock's start


def every_jobs(n: int, start: int) -> str:
    return "".join(
        f'[[schedule.jobs]]\nid = "every{start + i}"\ngoal = "true"\nevery_sec = 1\n'
        'mode = "unrestricted"\n\n'
        for i in range(n)
    )


class Recorder:
    """Starter that counts instead of spawning (and frees the job lock at once)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, request: RunRequest, lock: FileLock) -> None:
        lock.release()
        self.count += 1


def library_home(root: Path, jobs: str) -> RuntimeHome:
    home = RuntimeHome(root)
    home.ensure_folders()
    home.config.write_text(f"[schedule]\nenabled = true\n\n{jobs}")
    return home


def scheduler(home: RuntimeHome, clock: list[float]) -> tuple[Scheduler, Recorder]:
    rec = Recorder()
    sched = Scheduler(home, load(home.config).config, starter=rec, clock=lambda: clock[0])
    sched.load(clock[0])
    return sched, rec


def heap_baseline(n: int, reps: int) -> float:
    heap = [(T0 + i, i, f"job{i}") for i in range(n)]
    heapq.heapify(heap)
    item = (T0 + n / 2, n, "x")
    start = time.perf_counter()
    for _ in range(reps):
        heapq.heappush(heap, item)
        heapq.heappop(heap)
    return (time.perf_counter() - start) / reps


def cycle_cases(n: int, cycles: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        # Nothing due: cron jobs next due on 1 January, the clock a day before.
        idle_home = library_home(Path(tmp) / "idle", cron_jobs(n))
        clock = [T0 - 86_400.0]
        idle, _ = scheduler(idle_home, clock)
        idle.cycle(clock[0])  # the first cycle of a new home persists its start

        def nothing_due() -> float:
            start = time.perf_counter()
            for _ in range(cycles):
                idle.cycle(clock[0])
            return (time.perf_counter() - start) / cycles

        # 1 % due: that many every_sec=1 jobs, the clock moving 1 s per cycle.
        due_n = max(1, n // 100)
        busy_home = library_home(Path(tmp) / "busy",
                                 cron_jobs(n - due_n) + every_jobs(due_n, n))
        bclock = [T0 - 86_400.0]
        busy, rec = scheduler(busy_home, bclock)
        busy.cycle(bclock[0])  # fires every every_sec job once (never fired before)
        due_cycles = 20

        def one_percent() -> float:
            fired = rec.count
            start = time.perf_counter()
            for _ in range(due_cycles):
                bclock[0] += 1.0
                busy.cycle(bclock[0])
            elapsed = (time.perf_counter() - start) / due_cycles
            assert rec.count - fired == due_cycles * due_n, "not 1 % due per cycle"
            return elapsed

        samples = alternate({
            "heappush+heappop": lambda: heap_baseline(n, cycles),
            "cycle, nothing due": nothing_due,
            "cycle, 1 % due": one_percent,
        }, rounds)
        assert idle.popped == 0
    return {"due_per_cycle": due_n, "samples_s": samples,
            "stats": {k: summary(v) for k, v in samples.items()}}


def daemon_start(scoot: Path, n: int, rounds: int) -> dict[str, object]:
    python = str(bench_python())
    with tempfile.TemporaryDirectory() as tmp:
        home = make_home(scoot, Path(tmp) / "home", cron_jobs(n))
        sock_path = Path(tmp) / "notify.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(sock_path))
        env = clean_env(SCOOT_HOME=str(home), NOTIFY_SOCKET=str(sock_path))
        argv = [str(scoot), "daemon", "run"]
        # The first run of a new home computes every next-due instant (croniter) and
        # persists them; every later start reads them back.
        subprocess.run([*argv, "--ticks", "1"], env=clean_env(SCOOT_HOME=str(home)),
                       check=True, capture_output=True)

        def start() -> float:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            sock.settimeout(60)
            while True:
                msg = sock.recv(4096).decode()
                if "READY=1" in msg.split("\n"):
                    break
            elapsed = time.perf_counter() - t0
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
            # Drain what the stopping daemon sent (STOPPING=1) before the next round.
            sock.settimeout(0)
            try:
                while True:
                    sock.recv(4096)
            except OSError:
                pass
            return elapsed

        samples = alternate({
            "python -I -c pass": lambda: time_command([python, "-I", "-c", "pass"]),
            "scoot daemon run -> READY=1": start,
        }, rounds)
        sock.close()
    return {"jobs": n, "samples_s": samples, "stats": {k: summary(v) for k, v in samples.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="+", default=[10, 1_000, 10_000])
    parser.add_argument("--cycles", type=int, default=2000, help="cycles per sample")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--start-jobs", type=int, default=10_000)
    parser.add_argument("--start-rounds", type=int, default=10)
    args = parser.parse_args()
    rows = []
    data: dict[str, object] = {"cycles_per_sample": args.cycles, "rounds": args.rounds,
                               "cycles": {}}
    for n in args.jobs:
        case = cycle_cases(n, args.cycles, args.rounds)
        data["cycles"][str(n)] = case  # type: ignore[index]
        stats = case["stats"]
        base = stats["heappush+heappop"]["p50"]  # type: ignore[index]
        for name, s in stats.items():  # type: ignore[attr-defined]
            rows.append((f"{n} jobs", name, s["p50"] * 1e6, s["p95"] * 1e6, s["p50"] / base))
    scoot = scoot_install()
    start = daemon_start(scoot, args.start_jobs, args.start_rounds)
    data["start"] = start
    stats = start["stats"]
    floor = stats["python -I -c pass"]["p50"]  # type: ignore[index]
    for name, s in stats.items():  # type: ignore[attr-defined]
        rows.append((f"{args.start_jobs} jobs", name, s["p50"] * 1e6, s["p95"] * 1e6,
                     s["p50"] / floor))
    report("cycle_cost", ["home", "what", "p50 us", "p95 us", "x baseline"], rows, data)


if __name__ == "__main__":
    os.environ.pop("NOTIFY_SOCKET", None)
    main()
