"""The gate a run waits at until its instant: released, it execs; given up, it never does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox_helpers import probe_as, require_sandbox

from scoot.sandbox import gate
from scoot.sandbox.launch import gated_argv, parse_report, wrapper_argv


def hold(argv_of_gate: list[str], gate_r: int, extra_fds: tuple[int, ...] = ()) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv_of_gate, pass_fds=(gate_r, *extra_fds), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    os.close(gate_r)
    return proc


def goal(marker: Path) -> list[str]:
    return ["/bin/sh", "-c", f"echo ran > {marker}", "goal"]


@pytest.mark.parametrize("kind", ["python", "sh"])
@pytest.mark.parametrize("release", [True, False])
def test_gate_runs_the_goal_only_when_released(tmp_path: Path, kind: str, release: bool) -> None:
    marker = tmp_path / "ran"
    r, w = os.pipe()
    argv = ([sys.executable, "-I", "-m", "scoot.sandbox.gate", str(r), "--", *goal(marker)]
            if kind == "python" else gated_argv(goal(marker), r))
    proc = hold(argv, r)
    if release:
        os.write(w, gate.RELEASE)
    os.close(w)
    assert proc.wait(timeout=30) == (0 if release else gate.CANCELLED)
    assert marker.exists() is release


def test_a_held_gate_waits(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r, w = os.pipe()
    proc = hold(gated_argv(goal(marker), r), r)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=0.5)
    assert not marker.exists()
    os.write(w, gate.RELEASE)
    os.close(w)
    assert proc.wait(timeout=30) == 0 and marker.exists()


@pytest.mark.parametrize("release", [True, False])
def test_the_sandbox_wrapper_confines_then_waits_at_the_gate(tmp_path: Path, release: bool) -> None:
    facts = probe_as(None)
    if not facts.get("readonly_enforceable"):
        require_sandbox(f"probe: {facts}")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    report_r, report_w = os.pipe()
    gate_r, gate_w = os.pipe()
    argv = wrapper_argv(["/bin/sh", "-c", "echo ran > ran"], scratch=scratch, best_effort=False,
                        report_fd=report_w, gate_fd=gate_r)
    proc = hold(argv, gate_r, (report_w,))
    os.close(report_w)
    report = parse_report(os.read(report_r, 65536))  # written before the gate is reached
    os.close(report_r)
    assert report.ok and "landlock" in report.layers
    assert not (scratch / "ran").exists()
    if release:
        os.write(gate_w, gate.RELEASE)
    os.close(gate_w)
    assert proc.wait(timeout=30) == (0 if release else gate.CANCELLED)
    assert (scratch / "ran").exists() is release
