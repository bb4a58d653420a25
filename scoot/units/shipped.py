"""The unit files and plists the repository ships in `units/` and `launchd/`.

They come out of the same renderers as `scoot units …`, for a default config, so a
change to the generator shows up as a diff here (and tests/units fail until the
files are regenerated):

    python -m scoot.units.shipped           # rewrite units/ and launchd/
    python -m scoot.units.shipped --check   # exit 1 and list the files that drifted

Instance mapping of the template units (docs/UNITS.md):
  system `scoot@NAME.service` -> SCOOT_HOME=/var/lib/scoot/NAME
  user   `scoot@NAME.service` -> SCOOT_HOME=~/.scoot-NAME
"""

from __future__ import annotations

import sys
from pathlib import Path

from scoot.config import Config
from scoot.units import launchd, systemd

DEBIAN_SCOOT = "/usr/bin/scoot"
SYSTEM_HOME = "/var/lib/scoot/%i"
SYSTEM_STATE_DIRECTORY = "scoot/%i"  # StateDirectory= is relative to /var/lib
USER_HOME = "%h/.scoot-%i"
# Homebrew's stable path (not the versioned Cellar one) and its var/ folder.
HOMEBREW_SCOOT = "/opt/homebrew/opt/scoot/bin/scoot"
HOMEBREW_HOME = "/opt/homebrew/var/scoot"


def shipped_files() -> dict[str, str]:
    """Repository-relative path -> text, for every shipped unit and plist."""
    config = Config(path=Path("config.toml"))  # the defaults `scoot setup` writes
    files: dict[str, str] = {}
    variants: tuple[tuple[systemd.Scope, str, str, str], ...] = (
        ("system", "units", SYSTEM_HOME, SYSTEM_STATE_DIRECTORY),
        ("user", "units/user", USER_HOME, ""),
    )
    for scope, folder, home, state in variants:
        for kind in systemd.KINDS:
            target = systemd.Target(
                scoot=DEBIAN_SCOOT, home=home, name="scoot", scope=scope, kind=kind,
                template=True, state_directory=state,
            )
            for unit in systemd.render(target, config):
                files[f"{folder}/{unit.name}"] = unit.text
    for kind in launchd.KINDS:
        agent = launchd.Agent(scoot=HOMEBREW_SCOOT, home=HOMEBREW_HOME, name="scoot", kind=kind)
        for plist in launchd.render(agent, config):
            files[f"launchd/{kind}/{plist.name}"] = plist.text
    return files


def drift(root: Path) -> list[str]:
    """Shipped files under `root` whose content differs from what the code renders."""
    changed = []
    for rel, text in shipped_files().items():
        path = root / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            changed.append(rel)
    return changed


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        print(f"not a Scoot checkout: {root} (run this from the repository)", file=sys.stderr)
        return 1
    if argv == ["--check"]:
        changed = drift(root)
        for rel in changed:
            print(f"drifted: {rel}", file=sys.stderr)
        return 1 if changed else 0
    if argv:
        print("usage: python -m scoot.units.shipped [--check]", file=sys.stderr)
        return 2
    for rel, text in shipped_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
