"""Audit-log append throughput, alone and with concurrent writers.

Usage: python bench/audit_append.py [--events 20000] [--writers 4]
Baseline (same run, alternated): a bare O_APPEND write of a line of the same size,
so the ratio is what JSON encoding, the timestamp and reopening per event cost.
Also checks that concurrent writers never interleave: every line must parse.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import report

from scoot.audit import AuditLog

FIELDS = {"job": "disk-check", "session": "20261123T081500Z-disk-check-0a1b2c", "mode": "readonly"}


def scoot_writer(path: str, n: int) -> None:
    log = AuditLog(Path(path))
    for _ in range(n):
        log.append("run_start", **FIELDS)


def raw_writer(path: str, n: int) -> None:
    line = (json.dumps({"ts": "2026-11-23T08:15:00.000Z", "event": "run_start", "pid": 1,
                        **FIELDS}) + "\n").encode()
    for _ in range(n):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        os.write(fd, line)
        os.close(fd)


def run(writer, writers: int, n: int) -> tuple[float, Path]:  # type: ignore[no-untyped-def]
    tmp = Path(tempfile.mkdtemp()) / "audit.jsonl"
    procs = [multiprocessing.Process(target=writer, args=(str(tmp), n)) for _ in range(writers)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return time.perf_counter() - start, tmp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="events per writer")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = []
    data: dict[str, object] = {"events_per_writer": args.events}
    for writers in (1, args.writers):
        best = {"raw": float("inf"), "scoot": float("inf")}
        for _ in range(args.rounds):
            for name, writer in (("raw", raw_writer), ("scoot", scoot_writer)):
                elapsed, path = run(writer, writers, args.events)
                best[name] = min(best[name], elapsed)
                lines = path.read_bytes().splitlines()
                assert len(lines) == writers * args.events, "lost events"
                for line in lines:
                    json.loads(line)  # interleaved writes would break a line
        total = writers * args.events
        rows.append((writers, total / best["raw"], total / best["scoot"],
                     best["scoot"] / best["raw"]))
        data[f"writers_{writers}"] = {"raw_s": best["raw"], "scoot_s": best["scoot"],
                                      "events_per_s": total / best["scoot"]}
    report("audit_append", ["writers", "raw lines/s", "scoot events/s", "x raw"], rows, data)


if __name__ == "__main__":
    main()
