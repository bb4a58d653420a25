"""Run every benchmark in turn (each prints its table and writes bench/results/<name>.json).

Usage: python bench/run_all.py [--quick]
--quick shortens each one (fewer rounds, 20 s windows) for a smoke run; the figures
in docs/PERFORMANCE.md come from the full run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL = [
    ["cold_tick.py"],
    ["cycle_cost.py"],
    ["lateness.py"],
    ["idle.py"],
    ["audit_append.py"],
]
QUICK = [
    ["cold_tick.py", "--rounds", "10"],
    ["cycle_cost.py", "--rounds", "5", "--start-rounds", "5"],
    ["lateness.py", "--duration", "20"],
    ["idle.py", "--duration", "20"],
    ["audit_append.py", "--events", "5000", "--rounds", "1"],
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = []
    for argv in QUICK if args.quick else FULL:
        print(f"\n=== {' '.join(argv)}", flush=True)
        if subprocess.run([sys.executable, str(HERE / argv[0]), *argv[1:]]).returncode:
            failed.append(argv[0])
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
