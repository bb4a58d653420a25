"""`scoot doctor`: host facts (probed for real), home permissions, config validity."""

from __future__ import annotations

import json

from scoottest import Scoot

from scoot.doctor import FAIL, OK, WARN, sandbox_checks


def test_fresh_home_on_this_host(scoot: Scoot) -> None:
    r = scoot("doctor")
    lines = r.stdout.splitlines()
    assert lines[0] == f"ok    home: {scoot.home.root}"
    assert "ok    permissions: folders 0700, files 0600, owned by you" in lines
    assert "ok    config: 0 valid job(s); schedule disabled" in lines
    verdict = next(line for line in lines if " readonly runs: " in line)
    # The verdict matches what the probe found, and the exit status follows it.
    doc = json.loads(scoot("doctor", "--json").stdout)
    assert doc["ok"] is (r.returncode == 0)
    assert verdict.startswith("ok ") is (r.returncode == 0)


def test_loose_permissions_and_bad_config_are_reported(scoot: Scoot) -> None:
    scoot.home.config.write_text("[schedule]\npoll_ms = 'x'\n")
    scoot.home.config.chmod(0o644)
    r = scoot("doctor")
    assert r.returncode == 1
    assert f"warn  permissions: {scoot.home.config}: mode 0644, expected 0600" in r.stdout
    assert (f"FAIL  config: config error: {scoot.home.config}:2:11: "
            "schedule.poll_ms must be an integer > 0, got \"x\"") in r.stdout
    assert "Traceback" not in r.stderr


def test_missing_home(scoot: Scoot, tmp_path) -> None:
    r = scoot("--scoot-home", str(tmp_path / "nowhere"), "doctor")
    assert r.returncode == 1
    assert r.stdout.splitlines()[0] == f"FAIL  home: {tmp_path / 'nowhere'} does not exist (run `scoot setup`)"


LINUX_WITHOUT_LANDLOCK = {
    "landlock_abi": 2, "landlock_sufficient": False, "seccomp": True, "user_namespaces": False,
    "mount_namespace": True, "network_namespace": True, "layers": ["mountns", "nnp", "seccomp"],
    "missing": ["landlock"], "readonly_enforceable": False,
    "errors": {"user_namespaces": "EPERM"},
}


def test_sandbox_verdict_follows_the_policy() -> None:
    required = {c.topic: c for c in sandbox_checks(LINUX_WITHOUT_LANDLOCK, "required")}
    assert (required["landlock"].status, required["landlock"].detail) == (FAIL, "ABI 2 (3 or later required)")
    assert (required["user namespaces"].status, required["user namespaces"].detail) == (WARN, "not usable: EPERM")
    assert required["readonly runs"].status == FAIL
    assert required["readonly runs"].detail == "refused on this host (missing: landlock)"
    lenient = {c.topic: c for c in sandbox_checks(LINUX_WITHOUT_LANDLOCK, "best-effort")}
    assert lenient["readonly runs"].status == WARN


def test_macos_facts() -> None:
    checks = sandbox_checks({"seatbelt": True, "layers": ["seatbelt"], "missing": [],
                             "readonly_enforceable": True}, "required")
    assert [(c.status, c.topic) for c in checks] == [(OK, "seatbelt"), (OK, "readonly runs")]


def test_installed_units_are_compared_with_the_config(scoot: Scoot, tmp_path) -> None:
    scoot.env["XDG_CONFIG_HOME"] = str(tmp_path / "cfg")
    unit_dir = tmp_path / "cfg" / "systemd" / "user"
    assert "info  units: no systemd units installed for this home" in scoot("doctor").stdout
    r = scoot("units", "systemd", "--user", "--kind", "daemon", "--output", str(unit_dir))
    assert r.returncode == 0, r.stderr
    assert f"ok    units: user daemon units in {unit_dir} match the config" in scoot("doctor").stdout
    text = scoot.home.config.read_text().replace("watchdog_sec = 30", "watchdog_sec = 5")
    scoot.home.config.write_text(text)
    (unit,) = unit_dir.iterdir()
    assert (f"warn  units: {unit} differ from the config "
            "(regenerate: scoot units systemd --user --kind daemon --install)") in scoot("doctor").stdout
