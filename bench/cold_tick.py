"""Cold `scoot schedule run --ticks 1` with nothing due, against the Python floor.

Usage: python bench/cold_tick.py [--jobs 50] [--rounds 40]
Baselines (same run, alternated): `python -I -c pass` and `python -c "import click"`.
Budget (SPEC §13): 50 jobs <= 5x the floor (target 2x); 10,000 jobs <= 20x (target 4x).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, nargs="+", default=[50, 10_000])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    scoot = scoot_install()
    python = str(bench_python())
    rows = []
    data: dict[str, object] = {"rounds": args.rounds, "cases": {}}
    for n in args.jobs:
        with tempfile.TemporaryDirectory() as tmp:
            home = make_home(scoot, Path(tmp) / "home", cron_jobs(n))
            env = clean_env(SCOOT_HOME=str(home))
            tick = [str(scoot), "schedule", "run", "--ticks", "1"]
            # The first tick of a new home computes and persists every next-due instant.
            subprocess.run(tick, check=True, env=env, capture_output=True)
            samples = alternate({
                "python -I -c pass": lambda: time_command([python, "-I", "-c", "pass"]),
                "python -c 'import click'": lambda: time_command([python, "-c", "import click"]),
                "scoot --ticks 1": lambda tick=tick, env=env: time_command(tick, env),
            }, args.rounds)
        floor = summary(samples["python -I -c pass"])["p50"]
        stats = {name: summary(v) for name, v in samples.items()}
        for name, s in stats.items():
            rows.append((f"{n} jobs", name, s["p50"] * 1000, s["p95"] * 1000, s["p50"] / floor))
        data["cases"][f"{n}"] = {"samples_s": samples, "stats": stats,  # type: ignore[index]
                                 "ratio_p50": stats["scoot --ticks 1"]["p50"] / floor}
    report("cold_tick", ["home", "command", "p50 ms", "p95 ms", "x floor"], rows, data)


if __name__ == "__main__":
    main()
