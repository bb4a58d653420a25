"""Config validation (SPEC §4): usable configs give typed jobs and warning lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoot.config import load
from scoot.errors import ConfigError, ExitCode


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def jobs_toml(*bodies: str) -> str:
    return "".join(f"[[schedule.jobs]]\n{body}\n" for body in bodies)


def test_defaults_when_tables_are_missing(tmp_path: Path) -> None:
    loaded = load(write(tmp_path, ""))
    c = loaded.config
    assert (c.schedule_enabled, c.poll_ms, c.policy_mode, c.policy_sandbox) == (
        False, 1000, "guarded", "required")
    assert c.runner_command == ("/bin/sh", "-c")
    assert (c.runner_timeout_sec, c.output_max_bytes, c.stop_timeout_sec, c.watchdog_sec) == (
        3600, 1048576, 30, 30)
    assert loaded.warnings == []


def test_a_valid_job_of_each_trigger(tmp_path: Path) -> None:
    text = jobs_toml(
        'id = "a"\ngoal = "true"\nevery_sec = 5',
        'id = "b.c-d_e"\ngoal = "true"\nat_unix = 1796083200.5\nmode = "unrestricted"',
        'id = "C"\ngoal = "true"\ncron = "@daily"\nmode = "guarded"\ntimeout_sec = 2.5\n'
        'enabled = false\nenv = { A = "1" }\nworkdir = "/tmp"',
    )
    c = load(write(tmp_path, text)).config
    assert [(j.id, j.trigger.kind, j.mode) for j in c.jobs] == [
        ("a", "every_sec", "readonly"), ("b.c-d_e", "at_unix", "unrestricted"),
        ("C", "cron", "guarded")]
    assert [j.trigger.text for j in c.jobs] == [
        "every 5s", "at 2026-12-01T00:00:00Z", "cron @daily"]
    last = c.jobs[2]
    assert (last.timeout_sec, last.enabled, dict(last.env), last.workdir) == (2.5, False, {"A": "1"}, "/tmp")
    assert c.invalid == ()


INVALID = [
    ('id = "x"\ngoal = "true"', 'job "x" skipped: no trigger (set exactly one of every_sec, at_unix, cron)'),
    ('id = "x"\ngoal = "true"\nevery_sec = 5\ncron = "* * * * *"',
     'job "x" skipped: several triggers (every_sec, cron): set exactly one'),
    ('id = "x"\ngoal = "true"\ncron = "0 0 31 2 *"',
     'job "x" skipped: invalid cron "0 0 31 2 *": can never fire (none of its days exists in its months)'),
    ('id = "x"\ngoal = "true"\ncron = "0 0 * *"',
     'job "x" skipped: invalid cron "0 0 * *": cron needs exactly 5 fields, got 4'),
    ('id = "x"\ngoal = "true"\ncron = "nonsense here"',
     'job "x" skipped: invalid cron "nonsense here": cron needs exactly 5 fields, got 2'),
    ('id = "-bad"\ngoal = "true"\nevery_sec = 5',
     'job "#1" skipped: invalid id "-bad" (1-64 letters, digits, "_", ".", "-", starting with a letter or digit)'),
    ('id = "' + "a" * 65 + '"\ngoal = "true"\nevery_sec = 5', 'job "#1" skipped: invalid id "' + "a" * 65),
    ('id = 7\ngoal = "true"\nevery_sec = 5', 'job "#1" skipped: id must be a string, got 7'),
    ('goal = "true"\nevery_sec = 5', 'job "#1" skipped: missing id'),
    ('id = "x"\nevery_sec = 5', 'job "x" skipped: missing goal'),
    ('id = "x"\ngoal = "  "\nevery_sec = 5', 'job "x" skipped: goal is empty'),
    ('id = "x"\ngoal = "true"\nevery_sec = 5\nmode = "yolo"',
     'job "x" skipped: unknown mode "yolo" (use readonly, guarded or unrestricted)'),
    ('id = "x"\ngoal = "true"\nevery_sec = "5"', 'job "x" skipped: every_sec must be an integer > 0, got "5"'),
    ('id = "x"\ngoal = "true"\nevery_sec = 0', 'job "x" skipped: every_sec must be an integer > 0, got 0'),
    ('id = "x"\ngoal = "true"\nevery_sec = true', 'job "x" skipped: every_sec must be an integer > 0, got true'),
    ('id = "x"\ngoal = "true"\nat_unix = -1', 'job "x" skipped: at_unix must be a number >= 0, got -1'),
    ('id = "x"\ngoal = "true"\ncron = 5', 'job "x" skipped: cron must be a string, got 5'),
    ('id = "x"\ngoal = "true"\nevery_sec = 5\ntimeout_sec = 0',
     'job "x" skipped: timeout_sec must be a number > 0, got 0'),
    ('id = "x"\ngoal = "true"\nevery_sec = 5\nenabled = "yes"',
     'job "x" skipped: enabled must be a boolean, got "yes"'),
    ('id = "x"\ngoal = "true"\nevery_sec = 5\nenv = { A = 1 }', 'job "x" skipped: env must be a table'),
]


@pytest.mark.parametrize(("body", "warning"), INVALID)
def test_invalid_job_is_skipped_and_the_others_kept(tmp_path: Path, body: str, warning: str) -> None:
    text = jobs_toml(body, 'id = "good"\ngoal = "true"\nevery_sec = 5')
    c = load(write(tmp_path, text)).config
    assert [j.id for j in c.jobs] == ["good"]
    assert len(c.invalid) == 1
    assert c.invalid[0].warning.startswith(warning)


def test_every_later_duplicate_is_invalid(tmp_path: Path) -> None:
    job = 'id = "x"\ngoal = "true"\nevery_sec = 5'
    c = load(write(tmp_path, jobs_toml(job, job, job))).config
    assert [j.index for j in c.jobs] == [1]
    assert [i.warning for i in c.invalid] == [
        'job "x" skipped: duplicate id "x" (first used by job #1)',
        'job "x" skipped: duplicate id "x" (first used by job #1)',
    ]


def test_unknown_keys_are_warned_with_the_closest_known_key(tmp_path: Path) -> None:
    text = "[schedule]\npol_ms = 5\n[polcy]\n" + jobs_toml('id = "x"\ngoal = "true"\nevry_sec = 3\nevery_sec = 3')
    warnings = load(write(tmp_path, text)).warnings
    assert 'unknown key "evry_sec" in job "x" (did you mean "every_sec"?)' in warnings
    assert 'unknown key "pol_ms" in [schedule] (did you mean "poll_ms"?)' in warnings
    assert 'unknown key "polcy" (did you mean "policy"?)' in warnings


def test_both_day_fields_restricted_is_warned(tmp_path: Path) -> None:
    warnings = load(write(tmp_path, jobs_toml('id = "x"\ngoal = "g"\ncron = "0 0 13 * 5"'))).warnings
    assert warnings == [
        'job "x": cron "0 0 13 * 5" restricts both day of month and day of week: '
        "it fires on days matching either (Debian cron rule)"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[schedule]\npoll_ms = \"fast\"\n", ':2:11: schedule.poll_ms must be an integer > 0, got "fast"'),
        ("[schedule]\nenabled = 1\n", ":2:11: schedule.enabled must be a boolean, got 1"),
        ('[policy]\nmode = "sudo"\n', ':2:8: policy.mode must be one of "readonly", "guarded", "unrestricted"'),
        ("[runner]\ncommand = []\n", ":2:11: runner.command must be a non-empty array of strings, got array"),
        ("[daemon]\nwatchdog_sec = -1\n", ":2:16: daemon.watchdog_sec must be an integer >= 0"),
        ("schedule = 3\n", ": schedule must be a table"),
        ("[schedule]\nenabled = \n", ":2:11: Invalid value"),
        ("[schedule\n", ":1:10: Expected ']' at the end of a table declaration"),
    ],
)
def test_unusable_config_raises_with_position(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.exit_code == ExitCode.CONFIG
    assert info.value.message.startswith(f"config error: {path}")
    assert message in info.value.message


def test_missing_config_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file \(run `scoot setup` to create it\)"):
        load(tmp_path / "nope.toml")
