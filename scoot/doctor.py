"""`scoot doctor`: what this host can enforce and whether the home is sound (SPEC §7)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
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
