"""Shared pieces of the benchmarks: a private install, homes, timing, reporting.

Every figure is a ratio against a baseline measured in the same run, with the
commands alternated round by round, because these machines drift (SPEC §13).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BENCH_VENV = ROOT / ".venv-bench"


def scoot_install() -> Path:
    """A regular (non-editable) install of this tree, as users get it; returns `scoot`.

    An editable install adds an import hook to every start-up, which would be
    measured as Scoot's cost.
    """
    python = BENCH_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "--force-reinstall", "--no-deps", str(ROOT)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(ROOT)], check=True)
    return BENCH_VENV / "bin" / "scoot"


def bench_python() -> Path:
    return BENCH_VENV / "bin" / "python"


def make_home(scoot: Path, root: Path, jobs: str, *, poll_ms: int = 1000) -> Path:
    env = clean_env()
    subprocess.run([str(scoot), "--scoot-home", str(root), "setup"], check=True,
                   capture_output=True, env=env)
    text = (root / "config.toml").read_text()
    text = text.replace("enabled = false", "enabled = true", 1)
    text = text.replace("poll_ms = 1000", f"poll_ms = {poll_ms}", 1)
    (root / "config.toml").write_text(text + "\n" + jobs)
    return root


def cron_jobs(n: int, *, cron: str = "0 0 1 1 *", goal: str = "true") -> str:
    """`n` unrestricted jobs that are not due for months."""
    return "".join(
        f'[[schedule.jobs]]\nid = "job{i}"\ngoal = "{goal}"\ncron = "{cron}"\n'
        'mode = "unrestricted"\n\n'
        for i in range(n)
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SCOOT_", "NOTIFY_", "WATCHDOG_", "PYTHON"))}
    env.update(extra)
    return env


def time_command(argv: Sequence[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=env or clean_env(), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def alternate(cases: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Run every case once per round, in turn, so drift hits them alike."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            samples[name].append(case())
    return samples


def summary(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {"n": len(ordered), "min": ordered[0], "p50": statistics.median(ordered),
            "p95": pct(95), "p99": pct(99), "max": ordered[-1],
            "mean": statistics.fmean(ordered)}


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "kernel": platform.release(),
            "cpus": os.cpu_count(), "machine": platform.machine(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def report(name: str, headers: Sequence[str], rows: Sequence[Sequence[Any]],
           data: dict[str, Any]) -> None:
    """Print a table and write bench/results/<name>.json."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for r in cells:
        padded = (c.rjust(w) if i else c.ljust(w)
                  for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        print("  ".join(padded))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps({"benchmark": name, "machine": machine(), **data}, indent=2) + "\n")
    print(f"(written to {out.relative_to(ROOT)})")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
