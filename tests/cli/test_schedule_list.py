"""`schedule list`, `schedule next`, config errors and CLI conventions (real binary)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from scoottest import Scoot

JOBS = """
[[schedule.jobs]]
id = "disk"
goal = "df -h /"
every_sec = 300

[[schedule.jobs]]
id = "nightly"
goal = "true"
cron = "0 3 * * *"
mode = "guarded"

[[schedule.jobs]]
id = "bad"
goal = "true"
cron = "0 0 31 2 *"

[[schedule.jobs]]
id = "once"
goal = "true"
at_unix = 4102444800
mode = "unrestricted"

[[schedule.jobs]]
id = "off"
goal = "true"
every_sec = 5
enabled = false

[[schedule.jobs]]
goal = "no id"
every_sec = 5
"""


def next_3am() -> str:
    now = datetime.now(UTC)
    t = now.replace(hour=3, minute=0, second=0, microsecond=0)
    if t <= now:
        t = datetime.fromtimestamp(t.timestamp() + 86400, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_list_shows_every_job_in_config_order(scoot: Scoot) -> None:
    scoot.write_config(JOBS)
    r = scoot("schedule", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "TRIGGER", "MODE", "STATE", "NEXT"]
    rows = [line.split(None, 4) for line in lines[1:]]
    assert [row[0] for row in rows] == ["disk", "nightly", "bad", "once", "off", "#6"]
    disk, nightly, bad, once, off, noid = lines[1:]
    assert disk.split()[1:5] == ["every", "300s", "readonly", "ACTIVE"]
    assert nightly.split()[1:8] == ["cron", "0", "3", "*", "*", "*", "readonly"]
    assert "readonly (guarded)  ACTIVE" in nightly and nightly.endswith(next_3am())
    assert bad.endswith('INACTIVE  invalid: invalid cron "0 0 31 2 *": can never fire '
                        "(none of its days exists in its months)")
    assert "at 2100-01-01T00:00:00Z" in once and "UNRESTRICTED" in once
    assert once.endswith("ACTIVE    2100-01-01T00:00:00Z")
    assert off.endswith("INACTIVE  enabled = false")
    assert noid.endswith("INACTIVE  invalid: missing id")
    assert r.stderr.splitlines() == [
        '[scoot] warning: job "bad" skipped: invalid cron "0 0 31 2 *": can never fire (none of its days exists in its months)',
        '[scoot] warning: job "#6" skipped: missing id',
    ]


def test_list_json(scoot: Scoot) -> None:
    scoot.write_config(JOBS)
    r = scoot("schedule", "list", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schedule_enabled"] is True and doc["home"] == str(scoot.home.root)
    by_id = {j["id"]: j for j in doc["jobs"]}
    assert [j["id"] for j in doc["jobs"]] == ["disk", "nightly", "bad", "once", "off", "#6"]
    assert by_id["nightly"]["requested_mode"] == "guarded"
    assert by_id["nightly"]["effective_mode"] == "readonly"
    assert by_id["nightly"]["next_fire"] == next_3am()
    assert by_id["once"]["unrestricted"] is True and by_id["disk"]["unrestricted"] is False
    assert by_id["off"] == {**by_id["off"], "state": "INACTIVE", "reason": "enabled = false", "next_fire": None}
    assert by_id["bad"]["state"] == "INACTIVE" and by_id["bad"]["reason"].startswith("invalid: ")


def test_disabled_schedule_makes_every_job_inactive(scoot: Scoot) -> None:
    scoot.write_config(JOBS, enabled=False)
    r = scoot("schedule", "list")
    assert r.returncode == 0
    assert all("INACTIVE" in line for line in r.stdout.splitlines()[1:])
    assert r.stdout.splitlines()[1].endswith("INACTIVE  schedule disabled")


def test_next_lists_n_times_per_active_job(scoot: Scoot) -> None:
    scoot.write_config(JOBS)
    r = scoot("schedule", "next", "nightly", "-n", "3")
    assert r.returncode == 0, r.stderr
    first = datetime.strptime(next_3am(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    assert r.stdout.splitlines() == [
        f"nightly  {datetime.fromtimestamp(first + d * 86400, UTC):%Y-%m-%dT%H:%M:%SZ}" for d in range(3)
    ]
    everything = scoot("schedule", "next", "-n", "2").stdout.splitlines()
    assert [line.split()[0] for line in everything] == ["disk", "disk", "nightly", "nightly", "once"]
    t0, t1 = (datetime.strptime(line.split()[1], "%Y-%m-%dT%H:%M:%SZ").timestamp() for line in everything[:2])
    assert t1 - t0 == 300 and abs(t0 - time.time()) < 5


def test_next_of_unknown_or_inactive_job(scoot: Scoot) -> None:
    scoot.write_config(JOBS)
    r = scoot("schedule", "next", "nope")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.splitlines()[-1] == f'scoot: no job "nope" in {scoot.home.config}'
    r = scoot("schedule", "next", "off")
    assert r.returncode == 1 and r.stderr.splitlines()[-1] == 'scoot: job "off" is inactive: enabled = false'


@pytest.mark.parametrize(
    ("text", "tail"),
    [
        ('[schedule]\npoll_ms = "fast"\n', ':2:11: schedule.poll_ms must be an integer > 0, got "fast"'),
        ("[schedule\n", ":1:10: Expected ']' at the end of a table declaration"),
        ("x = [1,\n", ":2:1: Invalid value at end of file"),
    ],
)
def test_config_error_is_one_line_and_exit_78(scoot: Scoot, text: str, tail: str) -> None:
    scoot.home.config.write_text(text)
    for args in (("schedule", "list"), ("schedule", "next")):
        r = scoot(*args)
        assert r.returncode == 78
        assert r.stderr == f"scoot: config error: {scoot.home.config}{tail}\n"
        assert r.stdout == ""


def test_missing_config(scoot: Scoot) -> None:
    scoot.home.config.unlink()
    r = scoot("schedule", "list")
    assert r.returncode == 78
    assert r.stderr == (f"scoot: config error: {scoot.home.config}: no such file "
                        "(run `scoot setup` to create it)\n")


def test_version_and_usage_errors(scoot: Scoot) -> None:
    from scoot import __version__

    r = scoot("--version")
    assert (r.returncode, r.stdout) == (0, f"scoot {__version__}\n")
    r = scoot("frobnicate")
    assert r.returncode == 2 and "No such command 'frobnicate'" in r.stderr
    assert "Traceback" not in r.stderr
    r = scoot("schedule", "next", "-n", "0")
    assert r.returncode == 2 and "Traceback" not in r.stderr
