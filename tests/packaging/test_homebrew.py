"""The Homebrew formula: Ruby accepts it, its resources are complete, real and current."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging_helpers import REPO, REQUIRE, TOOL_PACKAGES, ensure_packages
from scoottest import need

FORMULA = REPO / "packaging" / "homebrew" / "scoot.rb"
PINS = REPO / "packaging" / "homebrew" / "resources.txt"
SCRIPT = REPO / "packaging" / "homebrew-resources"
STANZA = re.compile(r'  resource "([^"]+)" do\n    url "([^"]+)"\n    sha256 "([0-9a-f]{64})"\n  end\n')


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins() -> dict[str, str]:
    lines = (line.split("#", 1)[0].strip() for line in PINS.read_text().splitlines())
    return {canonical(n): v for n, _, v in (line.partition("==") for line in lines if line)}


def resources() -> dict[str, tuple[str, str]]:
    return {name: (url, sha) for name, url, sha in STANZA.findall(FORMULA.read_text())}


def test_ruby_accepts_the_formula() -> None:
    if shutil.which("ruby") is None:
        ensure_packages(*TOOL_PACKAGES)
    r = subprocess.run(["ruby", "-c", str(FORMULA)], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout.strip(), r.stderr) == (0, "Syntax OK", "")


def test_formula_shape() -> None:
    text = FORMULA.read_text()
    for line in (
        "include Language::Python::Virtualenv",
        "virtualenv_install_with_resources",
        'run [opt_bin/"scoot", "daemon", "run"]',
        'environment_variables SCOOT_HOME: var/"scoot"',
        "keep_alive true",
        'log_path var/"log/scoot.log"',
        'error_log_path var/"log/scoot.err.log"',
        'system bin/"scoot", "--scoot-home", home, "setup"',
        'shell_output("#{bin}/scoot --scoot-home #{home} schedule list")',
    ):
        assert line in text, line
    assert re.search(r'^  depends_on "python@3\.1[2-9]"$', text, re.M)
    # One stanza per pin, each naming the pinned version's sdist.
    found = resources()
    assert sorted(found) == sorted(pins())
    for name, version in pins().items():
        url = found[name][0]
        assert url.startswith("https://files.pythonhosted.org/packages/"), url
        stem = Path(url).name.removesuffix(".tar.gz")
        assert canonical(stem) == canonical(f"{name}-{version}"), url


def test_resources_include_every_transitive_dependency() -> None:
    # Walk the requirements of scoot's dependencies as installed here, with markers
    # evaluated for the formula's Python (3.13) and no extras.
    from packaging.markers import Marker
    from packaging.requirements import Requirement

    env = {"python_version": "3.13", "python_full_version": "3.13.0", "extra": ""}

    def applies(marker: Marker | None) -> bool:
        return marker is None or marker.evaluate(env)

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    todo = [Requirement(r) for r in project["dependencies"]]
    needed: set[str] = set()
    while todo:
        req = todo.pop()
        name = canonical(req.name)
        if not applies(req.marker) or name in needed:
            continue
        needed.add(name)
        todo.extend(Requirement(r) for r in metadata.requires(req.name) or [])
    assert needed, "no dependencies found"
    assert needed <= set(pins()), f"missing from resources.txt: {sorted(needed - set(pins()))}"
    assert needed <= set(resources())


@pytest.mark.slow
def test_a_resource_matches_the_real_sdist(tmp_path: Path) -> None:
    name = "click"
    url, sha = resources()[name]
    r = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(tmp_path), url],
        capture_output=True, text=True, timeout=600,
    )
    if r.returncode != 0 and "NewConnectionError" in r.stderr:
        need("PyPI", REQUIRE, r.stderr.strip().splitlines()[-1])
    assert r.returncode == 0, r.stderr
    (sdist,) = tmp_path.iterdir()
    assert sdist.name == Path(url).name
    assert hashlib.sha256(sdist.read_bytes()).hexdigest() == sha


@pytest.mark.slow
def test_regeneration_leaves_the_formula_unchanged() -> None:
    # Downloads and hashes every pinned sdist again and checks the resolver's closure.
    r = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True,
                       timeout=1200)
    assert (r.returncode, r.stdout.strip()) == (0, "homebrew-resources: formula is up to date"), r.stderr
