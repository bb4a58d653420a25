"""`scoot doctor`: what this host can enforce and whether the home is sound (SPEC §7)."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scoot.config import Config, load
from scoot.errors import ScootError
from scoot.home import DIR_MODE, FILE_MODE, RuntimeHome

OK, WARN, FAIL, INFO = "ok", "warn", "FAIL", "info"


@dataclass(frozen=True)
class Check:
    status: str  # OK | WARN | FAIL | INFO
    topic: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"status": self.status.lower(), "topic": self.topic, "detail": self.detail}


def sandbox_checks(facts: dict[str, Any], policy: str) -> list[Check]:
    """Turn the sandbox probe's facts into checks; `policy` is policy.sandbox."""
    checks: list[Check] = []
    if "landlock_abi" in facts:
        abi = facts["landlock_abi"]
        checks.append(
            Check(
                OK if facts.get("landlock_sufficient") else FAIL,
                "landlock",
                f"ABI {abi} (3 or later required)"
                if abi
                else "not available (ABI 3 or later required)",
            )
        )
        checks.append(
            Check(
                OK if facts.get("seccomp") else FAIL,
                "seccomp",
                "filters available" if facts.get("seccomp") else "not available",
            )
        )
        errors = facts.get("errors", {})
        for key, label in (
            ("user_namespaces", "user namespaces"),
            ("mount_namespace", "mount namespace"),
            ("network_namespace", "network namespace"),
        ):
            ok = bool(facts.get(key))
            detail = "usable" if ok else f"not usable: {errors.get(key, 'refused')}"
            checks.append(Check(OK if ok else WARN, label, detail))
    if "seatbelt" in facts:
        checks.append(
            Check(
                OK if facts["seatbelt"] else FAIL,
                "seatbelt",
                "/usr/bin/sandbox-exec present"
                if facts["seatbelt"]
                else "/usr/bin/sandbox-exec missing",
            )
        )
    layers = ", ".join(facts.get("layers", [])) or "none"
    missing = ", ".join(facts.get("missing", []))
    if facts.get("readonly_enforceable"):
        detail = f"enforceable (layers: {layers})"
        if missing:
            detail += f"; not available: {missing}"
        checks.append(Check(OK, "readonly runs", detail))
    else:
        why = missing or facts.get("reason", "unknown")
        if policy == "best-effort":
            checks.append(
                Check(
                    WARN,
                    "readonly runs",
                    f"run with reduced confinement (best-effort; missing: {why})",
                )
            )
        else:
            checks.append(Check(FAIL, "readonly runs", f"refused on this host (missing: {why})"))
    return checks


def _mode_check(path: Path, want: int) -> Check | None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    problems = []
    if st.st_uid != os.geteuid():
        problems.append(f"owned by uid {st.st_uid}, not {os.geteuid()}")
    mode = stat.S_IMODE(st.st_mode)
    if mode & ~want:
        problems.append(f"mode {mode:04o}, expected {want:04o}")
    if problems:
        return Check(WARN, "permissions", f"{path}: {'; '.join(problems)}")
    return None


def home_checks(home: RuntimeHome) -> list[Check]:
    if not home.root.is_dir():
        return [Check(FAIL, "home", f"{home.root} does not exist (run `scoot setup`)")]
    checks = [Check(OK, "home", str(home.root))]
    paths: list[tuple[Path, int]] = [(f, DIR_MODE) for f in home.folders]
    for folder in (home.logs, home.state):
        if folder.is_dir():
            paths += [(p, FILE_MODE) for p in folder.iterdir() if p.is_file()]
    paths.append((home.config, FILE_MODE))
    bad = [c for c in (_mode_check(p, m) for p, m in paths) if c is not None]
    checks += bad or [Check(OK, "permissions", "folders 0700, files 0600, owned by you")]
    return checks


def config_checks(home: RuntimeHome) -> tuple[list[Check], Config | None]:
    try:
        loaded = load(home.config)
    except ScootError as e:
        return [Check(FAIL, "config", e.message)], None
    config = loaded.config
    checks = [
        Check(
            OK,
            "config",
            f"{len(config.jobs)} valid job(s); schedule "
            + ("enabled" if config.schedule_enabled else "disabled"),
        )
    ]
    checks += [Check(WARN, "config", bad.warning) for bad in config.invalid]
    checks += [Check(WARN, "config", line) for line in loaded.warnings]
    return checks, config


UnitCheck = Callable[[RuntimeHome, Config], list[Check]]


def diagnose(
    home: RuntimeHome, *, probe: Callable[[], dict[str, Any]], units: UnitCheck | None = None
) -> list[Check]:
    checks = home_checks(home)
    more, config = config_checks(home)
    checks += more
    checks += sandbox_checks(probe(), config.policy_sandbox if config else "required")
    if units is not None and config is not None:
        checks += units(home, config)
    return checks


_EXEC_PROGRAM = re.compile(r'^ExecStart="((?:[^"\\]|\\.)*)"', re.MULTILINE)
_PERIOD = re.compile(r"^OnUnitActiveSec=(\d+)s$", re.MULTILINE)


def installed_unit_checks(
    home: RuntimeHome, config: Config, environ: Mapping[str, str] | None = None
) -> list[Check]:
    """Compare the systemd units installed for this home with what its config renders.

    The scoot path and a timer's period are taken from the installed files (they
    come from the install command, not from the config), everything else must match.
    """
    from scoot.units import systemd
    from scoot.units.names import default_name

    env = os.environ if environ is None else environ
    name = default_name(home.root)
    checks: list[Check] = []
    for scope in systemd.SCOPES:
        folder = systemd.install_dir(scope, env)
        for kind in systemd.KINDS:
            probe = systemd.Target(scoot="", home=str(home.root), name=name, scope=scope, kind=kind)
            files = {n: folder / n for n in systemd.file_names(probe)}
            present = {n: p.read_text() for n, p in files.items() if p.is_file()}
            if not present:
                continue
            text = "\n".join(present.values())
            program = _EXEC_PROGRAM.search(text)
            period = _PERIOD.search(text)
            target = systemd.Target(
                scoot=program.group(1).replace("%%", "%") if program else "",
                home=str(home.root),
                name=name,
                scope=scope,
                kind=kind,
                every=int(period.group(1)) if period else None,
            )
            try:
                wanted = {f.name: f.text for f in systemd.render(target, config)}
            except ScootError as e:
                checks.append(Check(WARN, "units", f"{scope} {kind} units: {e.message}"))
                continue
            stale = sorted(n for n in files if present.get(n) != wanted.get(n))
            flag = "--system" if scope == "system" else "--user"
            if stale:
                checks.append(
                    Check(
                        WARN,
                        "units",
                        f"{', '.join(str(folder / n) for n in stale)} differ from the config "
                        f"(regenerate: scoot units systemd {flag} --kind {kind} --install)",
                    )
                )
            else:
                checks.append(
                    Check(OK, "units", f"{scope} {kind} units in {folder} match the config")
                )
    return checks or [Check(INFO, "units", "no systemd units installed for this home")]
