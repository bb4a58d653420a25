"""Fixtures for the sandbox suite: a fresh workspace per test, as root and as nobody.

Tests that need a layer the host lacks are skipped, unless SCOOT_REQUIRE_SANDBOX=1
(CI), where a missing layer is a failure (see sandbox_helpers.require_sandbox).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_helpers import NOBODY, SETPRIV, Workspace, probe_as, require_sandbox

USERS = ["root", "nobody"]


def _uid(user: str) -> int | None:
    return None if user == "root" else NOBODY


@pytest.fixture(params=USERS)
def user(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "nobody" and (os.geteuid() != 0 or SETPRIV is None):
        pytest.skip("needs root and setpriv to switch to an ordinary user")
    if name == "root" and os.geteuid() != 0:
        pytest.skip("needs root")
    return name


@pytest.fixture
def ws(user: str) -> Iterator[Workspace]:
    # Not tmp_path: pytest's base is private to root, and the ordinary user must reach
    # its own folders.
    base = Path(tempfile.mkdtemp(prefix="scoot-sbx-"))
    base.chmod(0o755)
    w = Workspace(base, base / "scratch", base / "outside", _uid(user))
    for d in (w.scratch, w.outside):
        d.mkdir()
        w.chown(d)
    w.victim.write_text("original\n")
    w.chown(w.victim)
    try:
        yield w
    finally:
        shutil.rmtree(base, ignore_errors=True)
        Path(f"{base}-escape").unlink(missing_ok=True)


@pytest.fixture
def enforced(ws: Workspace) -> Workspace:
    """The workspace, after checking that this host enforces readonly for its user."""
    facts = probe_as(ws.uid)
    if not facts.get("readonly_enforceable"):
        require_sandbox(f"probe for uid {ws.uid}: {facts}")
    return ws
