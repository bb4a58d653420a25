"""scoot(1) is rendered from `--help` (packaging/manpage.py); man must read it cleanly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from packaging_helpers import CLEAN_PATH, REPO
from scoottest import SCOOT, need


def test_man_page_covers_every_command(tmp_path: Path) -> None:
    page = tmp_path / "scoot.1"
    subprocess.run([sys.executable, str(REPO / "packaging" / "manpage.py"), "--output", str(page),
                    "--", str(SCOOT)], check=True, timeout=120, env={"PATH": CLEAN_PATH,
                   "HOME": str(tmp_path), "SOURCE_DATE_EPOCH": "1790000000"})
    text = page.read_text()
    assert text.startswith('.TH SCOOT 1 "2026-09-21" "scoot ')
    if shutil.which("man") is None:
        need("man (man-db)", "SCOOT_REQUIRE_PACKAGING", "man is not installed")
    r = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True,
                       env={"PATH": CLEAN_PATH, "MANWIDTH": "100", "LC_ALL": "C.UTF-8"}, timeout=60)
    assert (r.returncode, r.stderr) == (0, "")
    # Every command the CLI lists has its own section, its help verbatim.
    for path in (["setup"], ["schedule"], ["schedule", "list"], ["daemon", "run"],
                 ["units", "systemd"], ["units", "launchd"], ["sessions", "list"], ["doctor"]):
        help_text = subprocess.run([str(SCOOT), *path, "--help"], capture_output=True, text=True,
                                   check=True).stdout
        assert f"scoot {' '.join(path)}" in r.stdout
        usage = help_text.splitlines()[0]
        assert usage in r.stdout, usage
