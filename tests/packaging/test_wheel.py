"""The Python distributions: `python -m build` gives a complete sdist and a wheel that
carries the unit templates; the wheel works in a fresh venv; `pipx install .` works.

Builds run in a copy of the checkout (the repository is never written to), with `build`
and `pipx` installed from PyPI into a scratch venv.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging_helpers import CLEAN_PATH, REPO, copy_source_tree

pytestmark = pytest.mark.slow

VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


@dataclass
class Dist:
    src: Path
    sdist: Path
    wheel: Path
    tools: Path


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, args))} failed:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


def plain_env(home: Path, **extra: str) -> dict[str, str]:
    return {"PATH": CLEAN_PATH, "HOME": str(home), "LC_ALL": "C.UTF-8", **extra}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    root = tmp_path_factory.mktemp("dist")
    tools = root / "tools"
    run(sys.executable, "-m", "venv", tools, cwd=root)
    run(tools / "bin" / "pip", "install", "-q", "build", "pipx", cwd=root)
    src = copy_source_tree(root / "src")
    out = root / "out"
    # Without --sdist/--wheel, build makes the sdist and then the wheel *from the sdist*,
    # so the wheel's contents also prove the sdist is complete.
    run(tools / "bin" / "python", "-m", "build", "--outdir", out, src, cwd=root)
    return Dist(src, out / f"scoot-{VERSION}.tar.gz", out / f"scoot-{VERSION}-py3-none-any.whl", tools)


def source_files(*folders: str) -> set[str]:
    return {str(p.relative_to(REPO)) for f in folders for p in (REPO / f).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_sdist_is_a_complete_source_tree(dist: Dist) -> None:
    prefix = f"scoot-{VERSION}/"
    with tarfile.open(dist.sdist) as tar:
        names = {n.removeprefix(prefix) for n in tar.getnames()}
    expected = {"pyproject.toml", "README.md", "MANIFEST.in", "packaging/build-deb",
                "packaging/debian/control", "packaging/debian/rules", "packaging/homebrew/scoot.rb",
                "packaging/manpage.py", "tests/conftest.py", "tests/scoottest.py"}
    expected |= source_files("units", "launchd", "scoot/units/templates")
    expected |= {str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md")}
    assert expected <= names, sorted(expected - names)
    assert not [n for n in names if n.startswith((".venv", ".git/", "debian/"))]


def test_wheel_carries_the_templates(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as whl:
        names = set(whl.namelist())
        entry_points = whl.read(f"scoot-{VERSION}.dist-info/entry_points.txt").decode()
    templates = source_files("scoot/units/templates")
    assert templates, "the source tree has no unit templates"
    assert templates <= names, sorted(templates - names)
    assert "scoot = scoot.entry:main" in entry_points
    assert {n.split("/")[0] for n in names} == {"scoot", f"scoot-{VERSION}.dist-info"}


def test_wheel_in_a_fresh_venv_generates_units(dist: Dist, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    run(venv / "bin" / "pip", "install", "-q", dist.wheel, cwd=tmp_path)
    scoot = venv / "bin" / "scoot"
    home = tmp_path / "home"
    env = plain_env(tmp_path)
    run(scoot, "--scoot-home", home, "setup", cwd=tmp_path, env=env)
    r = run(scoot, "--scoot-home", home, "units", "systemd", "--kind", "daemon", cwd=tmp_path, env=env)
    assert "[Service]" in r.stdout
    assert f'ExecStart="{scoot}" "daemon" "run"' in r.stdout
    r = run(scoot, "--scoot-home", home, "units", "systemd", "--kind", "timer", cwd=tmp_path, env=env)
    assert "[Timer]" in r.stdout


def test_pipx_install(dist: Dist, tmp_path: Path) -> None:
    env = plain_env(tmp_path, PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "bin"),
                    PIPX_MAN_DIR=str(tmp_path / "man"))
    run(dist.tools / "bin" / "pipx", "install", ".", cwd=dist.src, env=env)
    r = run(tmp_path / "bin" / "scoot", "--version", cwd=tmp_path, env=env)
    assert r.stdout == f"scoot {VERSION}\n"
    r = run(tmp_path / "bin" / "scoot", "--scoot-home", tmp_path / "home", "setup", cwd=tmp_path, env=env)
    assert "Scoot home:" in r.stdout
