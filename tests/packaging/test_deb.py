"""The Debian package, end to end: build it, install it with apt, use it, remove it.

This changes the machine (it is what the package is for), so it runs only as root on
Debian, and it puts the machine back: everything `apt-get install ./scoot_*.deb` brought
in (scoot and the python3-* libraries that were not there before) is purged at the end,
and dpkg's package list must then equal the one recorded before the install. The build
toolchain (packaging_helpers.BUILD_PACKAGES) is installed when missing and left in
place, as CI installs it anyway.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging_helpers import (
    BUILD_PACKAGES,
    CLEAN_PATH,
    REPO,
    apt_get,
    apt_update_once,
    dpkg_snapshot,
    ensure_packages,
    installed,
    need_debian_root,
)

pytestmark = pytest.mark.slow

VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
SYSTEM_UNITS = Path("/lib/systemd/system")
USER_UNITS = Path("/usr/lib/systemd/user")
DIST_PACKAGES = "/usr/lib/python3/dist-packages/"


@dataclass
class Installed:
    deb: Path
    before: dict[str, str]
    brought: list[str]
    files: list[Path]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a user's shell would give /usr/bin/scoot: no venv, no pyenv, no PYTHONPATH."""
    return {"PATH": CLEAN_PATH, "HOME": str(home), "LC_ALL": "C.UTF-8", **extra}


def scoot(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/usr/bin/scoot", "--scoot-home", str(home / "scoot"), *args],
        env=clean_env(home), cwd=home, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_debian_root()
    ensure_packages(*BUILD_PACKAGES)
    out = tmp_path_factory.mktemp("deb-out")
    beside = sorted(REPO.parent.iterdir())
    # The guides as the build sees them (others may add one while the tests run).
    (out / "docs.txt").write_text("\n".join(
        str(d.relative_to(REPO)) for d in [REPO / "README.md", *(REPO / "docs").glob("*.md")] if d.is_file()))
    r = subprocess.run(
        [str(REPO / "packaging" / "build-deb"), "--output", str(out)],
        capture_output=True, text=True, timeout=1800,
    )
    assert r.returncode == 0, f"build-deb failed:\n{r.stderr[-5000:]}"
    path = Path(r.stdout.strip().splitlines()[-1])
    assert path == out / f"scoot_{VERSION}_all.deb"
    assert path.is_file()
    # Built in a scratch copy: the checkout gets no debian/ folder and no build output.
    assert not (REPO / "debian").exists()
    assert sorted(REPO.parent.iterdir()) == beside
    return path



def purge(packages: list[str]) -> None:
    known = dpkg_snapshot()
    packages = [p for p in packages if p in known]
    if packages:
        r = apt_get("purge", *packages)
        assert r.returncode == 0, f"apt-get purge failed:\n{r.stderr[-3000:]}"


@pytest.fixture(scope="module")
def installed_deb(deb: Path) -> Iterator[Installed]:
    if installed("scoot") or dpkg_snapshot().get("scoot"):
        pytest.fail("a scoot package is already on this machine; `apt-get purge scoot` first")
    before = dpkg_snapshot()
    r = apt_get("install", str(deb))
    if r.returncode != 0 and ("Unable to locate" in r.stderr or "not installable" in r.stdout):
        apt_update_once()  # a fresh machine has no package lists yet
        r = apt_get("install", str(deb))
    assert r.returncode == 0, f"apt-get install {deb} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    brought = sorted(set(dpkg_snapshot()) - set(before))
    listing = subprocess.run(["dpkg", "-L", "scoot"], capture_output=True, text=True, check=True).stdout
    files = [Path(p) for p in listing.splitlines() if p and Path(p).is_file()]
    state = Installed(deb, before, brought, files)
    try:
        yield state
    finally:
        # Whatever the tests did, leave nothing of ours behind (the last test asserts it).
        purge(state.brought)


def test_control_fields(deb: Path) -> None:
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version", "Architecture", "Depends"],
                            capture_output=True, text=True, check=True).stdout
    assert "Package: scoot\n" in fields
    assert f"Version: {VERSION}\n" in fields
    assert "Architecture: all\n" in fields
    depends = fields.split("Depends:", 1)[1]
    for lib in ("python3-click", "python3-jinja2", "python3-croniter", "python3-psutil"):
        assert lib in depends


def test_install_brings_debian_libraries(installed_deb: Installed) -> None:
    assert "scoot" in installed_deb.brought
    assert Path("/usr/bin/scoot").read_text().splitlines()[0] == "#!/usr/bin/python3"
    r = subprocess.run(
        ["/usr/bin/python3", "-c",
         "import click, croniter, jinja2, psutil, scoot\n"
         "for m in (click, croniter, jinja2, psutil, scoot): print(m.__file__)"],
        env=clean_env(Path("/")), cwd="/", capture_output=True, text=True, check=True,
    )
    for path in r.stdout.split():
        assert path.startswith(DIST_PACKAGES), path


def test_version_setup_and_list(installed_deb: Installed, tmp_path: Path) -> None:
    r = scoot(tmp_path, "--version")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"scoot {VERSION}\n", "")
    r = scoot(tmp_path, "setup")
    assert r.returncode == 0, r.stderr
    assert f"Scoot home: {tmp_path / 'scoot'}" in r.stdout
    assert (tmp_path / "scoot" / "config.toml").is_file()
    r = scoot(tmp_path, "schedule", "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split() == ["ID", "TRIGGER", "MODE", "STATE", "NEXT"]


def test_one_tick_runs_an_unrestricted_job(installed_deb: Installed, tmp_path: Path) -> None:
    assert scoot(tmp_path, "setup").returncode == 0
    home = tmp_path / "scoot"
    (home / "config.toml").write_text(
        "[schedule]\nenabled = true\npoll_ms = 200\n\n"
        '[[schedule.jobs]]\nid = "hello"\ngoal = "echo hello-from-the-deb"\n'
        'every_sec = 1\nmode = "unrestricted"\n'
    )
    r = scoot(tmp_path, "schedule", "list")
    assert r.returncode == 0, r.stderr
    assert r.stdout.lower().splitlines()[1].split()[:5] == ["hello", "every", "1s", "unrestricted", "active"]

    r = scoot(tmp_path, "schedule", "run", "--ticks", "1")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in (home / "logs" / "audit.jsonl").read_text().splitlines()]
    ends = [e for e in events if e["event"] == "run_end" and e.get("job") == "hello"]
    assert [e["event"] for e in events if e.get("job") == "hello"][:1] == ["run_start"]
    assert len(ends) == 1 and ends[0]["exit_code"] == 0
    sessions = list((home / "state" / "sessions").iterdir())
    assert len(sessions) == 1 and "-hello-" in sessions[0].name
    session = json.loads((sessions[0] / "session.json").read_text())
    assert (session["job"], session["status"], session["effective_mode"]) == ("hello", "ok", "unrestricted")
    assert (sessions[0] / "output.log").read_text() == "hello-from-the-deb\n"


def test_units_systemd_names_the_installed_binary(installed_deb: Installed, tmp_path: Path) -> None:
    assert scoot(tmp_path, "setup").returncode == 0
    r = scoot(tmp_path, "units", "systemd", "--user", "--kind", "daemon")
    assert r.returncode == 0, r.stderr
    assert "[Service]" in r.stdout
    assert 'ExecStart="/usr/bin/scoot" "daemon" "run"' in r.stdout


def installed_units(root: Path, files: list[Path]) -> list[Path]:
    return sorted(p for p in files if p.parent == root)


def verify(units: list[Path], scratch: Path, user: bool) -> None:
    """`systemd-analyze verify` each unit, templates instantiated as NAME@demo; no stderr."""
    scratch.mkdir()
    for unit in units:
        shutil.copy(unit, scratch / unit.name.replace("@.", "@demo."))
    env = clean_env(scratch)
    if user:
        runtime = scratch.parent / f"{scratch.name}-run"
        runtime.mkdir(mode=0o700)
        env["XDG_RUNTIME_DIR"] = str(runtime)
    for unit in sorted(scratch.iterdir()):
        cmd = ["systemd-analyze", *(["--user"] if user else []), "verify", str(unit)]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stderr) == (0, ""), f"{' '.join(cmd)}:\n{r.stderr}"


def test_installed_units_verify(installed_deb: Installed, tmp_path: Path) -> None:
    system = installed_units(SYSTEM_UNITS, installed_deb.files)
    user = installed_units(USER_UNITS, installed_deb.files)
    # Exactly what the source tree's units/ holds, system units at its top (or in
    # units/system/), user units in units/user/.
    shipped_system = {p.name for d in ("units", "units/system") for p in (REPO / d).glob("*")
                      if p.is_file() and p.suffix in {".service", ".timer", ".socket", ".path", ".target"}}
    shipped_user = {p.name for p in (REPO / "units" / "user").glob("*") if p.is_file()}
    assert {p.name for p in system} == shipped_system
    assert {p.name for p in user} == shipped_user
    assert system and user
    verify(system, tmp_path / "system", user=False)
    verify(user, tmp_path / "user", user=True)


def test_nothing_enabled_or_started(installed_deb: Installed) -> None:
    for root in (Path("/etc/systemd/system"), Path("/etc/systemd/user"),
                 Path("/var/lib/systemd/deb-systemd-helper-enabled"),
                 Path("/var/lib/systemd/deb-systemd-user-helper-enabled")):
        if root.exists():
            assert not [p for p in root.rglob("*scoot*")], f"scoot units enabled under {root}"


def test_man_page_and_docs(installed_deb: Installed) -> None:
    page = Path("/usr/share/man/man1/scoot.1.gz")
    assert page in installed_deb.files
    r = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True,
                       env={**clean_env(Path("/")), "MANWIDTH": "100", "MAN_KEEP_FORMATTING": ""},
                       timeout=60)
    assert (r.returncode, r.stderr) == (0, "")
    text = r.stdout
    assert "scoot - run unattended jobs on a schedule" in text
    for command in ("scoot setup", "scoot schedule list", "scoot daemon run", "scoot units systemd"):
        assert command in text
    docs = (installed_deb.deb.parent / "docs.txt").read_text().split()
    assert "README.md" in docs
    for doc in docs:
        assert Path("/usr/share/doc/scoot", doc).is_file(), doc


def test_remove_and_purge_leave_the_machine_as_found(installed_deb: Installed) -> None:
    # Runs last in this module: it undoes the install the tests above used.
    r = apt_get("remove", "scoot")
    assert r.returncode == 0, r.stderr
    assert not Path("/usr/bin/scoot").exists()
    purge(["scoot", *[p for p in installed_deb.brought if p != "scoot"]])
    assert dpkg_snapshot() == installed_deb.before
    left = [p for p in installed_deb.files if p.exists()]
    assert left == []
    assert not Path(DIST_PACKAGES, "scoot").exists()
