"""Shared by tests/units: nasty names, systemd-analyze verify, plistutil."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from scoottest import need

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"

# Folder names that every generator gets wrong somewhere: spaces, specifiers, shell
# expansions, both quotes, a backslash (also trailing), a lone `;`, a tab, non-ASCII.
NASTY_FOLDERS = [
    "my home",
    "50% %h %i %%",
    "$HOME ${USER} $$ $",
    "it's \"quoted\"",
    "back\\slash",
    "ends with \\",
    ";",
    "tab\there",
    "déjà vu ✓ 日本",
    "all: 'a' \"b\" $X %n \\ ; ✓",
]


def update_golden() -> bool:
    """Golden files are rewritten only on explicit request: SCOOT_UPDATE_GOLDEN=1."""
    return os.environ.get("SCOOT_UPDATE_GOLDEN") == "1"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if update_golden():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"no golden file {path} (run with SCOOT_UPDATE_GOLDEN=1 and review)"
    assert text.encode("utf-8") == path.read_bytes(), f"{name} differs from its golden file"


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        need("systemd-analyze", "SCOOT_REQUIRE_SYSTEMD", "not installed")
    assert found is not None
    return found


def verify(paths: Iterable[Path], *, user: bool, wrap: list[str] | None = None) -> None:
    """`systemd-analyze verify` must exit 0 AND print nothing: it returns 0 on warnings.

    `wrap` prefixes the command (e.g. to run it in a mount namespace).
    """
    argv = [systemd_analyze(), *(["--user"] if user else []), "verify", *map(str, paths)]
    with tempfile.TemporaryDirectory(prefix="scoot-verify-") as runtime:
        # --user wants an existing XDG_RUNTIME_DIR; the system check must not see one.
        env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
        if user:
            os.chmod(runtime, 0o700)
            env["XDG_RUNTIME_DIR"] = runtime
        r = subprocess.run([*(wrap or []), *argv], env=env, capture_output=True, text=True,
                           timeout=60)
    assert r.returncode == 0 and r.stderr == "" and r.stdout == "", (
        f"systemd-analyze verify failed (exit {r.returncode}):\n{r.stderr}{r.stdout}"
    )


def plistutil_roundtrip(path: Path, tmp: Path) -> bytes:
    """Convert with libplist to binary and back to XML; its exit status says nothing
    (2.2.0 exits 0 on failure), so any stderr or a missing output fails."""
    exe = shutil.which("plistutil")
    if exe is None:
        need("plistutil (apt-get install libplist-utils)", "SCOOT_REQUIRE_SYSTEMD", "not installed")
    assert exe is not None
    binary, back = tmp / f"{path.name}.bin", tmp / f"{path.name}.xml"
    for src, dst, fmt in ((path, binary, "bin"), (binary, back, "xml")):
        r = subprocess.run([exe, "-i", str(src), "-o", str(dst), "-f", fmt], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0 and r.stderr == "", f"plistutil failed on {src}: {r.stderr}"
        assert dst.exists() and dst.stat().st_size > 0, f"plistutil wrote nothing for {src}"
    return back.read_bytes()
