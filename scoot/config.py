"""Load and validate `<home>/config.toml` into typed objects (SPEC §4).

Nothing here prints: problems that leave the config usable come back as warning
lines, problems that make it unusable raise ConfigError (exit 78).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scoot import cron
from scoot.errors import ConfigError
from scoot.modes import MODES, READONLY

JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TRIGGERS = ("every_sec", "at_unix", "cron")
JOB_KEYS = ("id", "goal", *TRIGGERS, "mode", "timeout_sec", "enabled", "env", "workdir")
SANDBOX_POLICIES = ("required", "best-effort")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Trigger:
    kind: str  # "every_sec" | "at_unix" | "cron"
    every_sec: int = 0
    at_unix: float = 0.0
    cron: cron.CronExpr | None = None

    @property
    def text(self) -> str:
        """How `schedule list` shows it: `every 300s`, `cron 0 3 * * *`, `at <iso>`."""
        if self.kind == "every_sec":
            return f"every {self.every_sec}s"
        if self.kind == "at_unix":
            from scoot.timeutil import iso_utc

            return f"at {iso_utc(self.at_unix)}"
        assert self.cron is not None  # kind == "cron" guarantees it
        return f"cron {self.cron.text}"


@dataclass(frozen=True)
class Job:
    index: int  # 1-based position among [[schedule.jobs]]
    id: str
    goal: str
    trigger: Trigger
    mode: str = READONLY
    timeout_sec: float | None = None
    enabled: bool = True
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: str | None = None


@dataclass(frozen=True)
class InvalidJob:
    index: int
    label: str  # the id, or `#<n>` when it has no usable one
    reason: str

    @property
    def warning(self) -> str:
        return f'job "{self.label}" skipped: {self.reason}'


@dataclass(frozen=True)
class Config:
    path: Path
    schedule_enabled: bool = False
    poll_ms: int = 1000
    policy_mode: str = "guarded"
    policy_sandbox: str = "required"
    runner_command: tuple[str, ...] = ("/bin/sh", "-c")
    runner_timeout_sec: float = 3600.0
    output_max_bytes: int = 1048576
    runner_env: Mapping[str, str] = field(default_factory=dict)
    stop_timeout_sec: float = 30.0
    watchdog_sec: int = 30
    jobs: tuple[Job, ...] = ()
    invalid: tuple[InvalidJob, ...] = ()

    def job(self, job_id: str) -> Job | None:
        return next((j for j in self.jobs if j.id == job_id), None)


@dataclass
class Loaded:
    config: Config
    warnings: list[str]  # one line each, without the `[scoot] warning: ` prefix


# --- the schema of the top-level tables: key -> (checker, description) ----------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _str_table(v: Any) -> bool:
    return isinstance(v, dict) and all(
        isinstance(k, str) and ENV_NAME.match(k) and isinstance(x, str) for k, x in v.items()
    )


_TOP: dict[str, dict[str, tuple[Any, str]]] = {
    "schedule": {
        "enabled": (lambda v: isinstance(v, bool), "a boolean"),
        "poll_ms": (lambda v: _is_int(v) and v > 0, "an integer > 0"),
        "jobs": (lambda v: isinstance(v, list), "an array of tables ([[schedule.jobs]])"),
    },
    "policy": {
        "mode": (lambda v: v in MODES, "one of " + ", ".join(f'"{m}"' for m in MODES)),
        "sandbox": (lambda v: v in SANDBOX_POLICIES, '"required" or "best-effort"'),
    },
    "runner": {
        "command": (
            lambda v: isinstance(v, list) and v and all(isinstance(x, str) and x for x in v),
            "a non-empty array of strings",
        ),
        "timeout_sec": (lambda v: _is_number(v) and v > 0, "a number > 0"),
        "output_max_bytes": (lambda v: _is_int(v) and v > 0, "an integer > 0"),
        "env": (_str_table, "a table of NAME = \"string\""),
    },
    "daemon": {
        "stop_timeout_sec": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
        "watchdog_sec": (lambda v: _is_int(v) and v >= 0, "an integer >= 0 (0: no watchdog)"),
    },
}


def _type_name(v: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(v), type(v).__name__)


def _suggest(key: str, known: tuple[str, ...] | list[str]) -> str:
    import difflib  # only for a config with a typo

    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _locate(text: str, table: str, key: str) -> str:
    """`line:col` of `key =` inside `[table]` (where the value starts), or ''."""
    current = ""
    header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-]+)\s*\]\s*(#.*)?$")
    assign = re.compile(rf"^(\s*{re.escape(key)}\s*=\s*)")
    for number, line in enumerate(text.splitlines(), 1):
        m = header.match(line)
        if m:
            current = m.group(1)
            continue
        m = assign.match(line)
        if m and current == table:
            return f"{number}:{len(m.group(1)) + 1}"
    return ""


def _where(path: Path, text: str, table: str, key: str) -> str:
    pos = _locate(text, table, key)
    return f"{path}:{pos}" if pos else str(path)


_AT_END = " (at end of document)"
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (run `scoot setup` to create it)") from None
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 (byte {e.start})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        m = _TOML_POS.search(message)
        if m:
            message = message[: m.start()]
            raise ConfigError(f"{path}:{m.group(1)}:{m.group(2)}: {message}") from None
        if message.endswith(_AT_END):
            line = text.count("\n") + 1
            col = len(text.rsplit("\n", 1)[-1]) + 1
            message = message.removesuffix(_AT_END)
            raise ConfigError(f"{path}:{line}:{col}: {message} at end of file") from None
        raise ConfigError(f"{path}: {message}") from None


def load(path: Path) -> Loaded:
    """Read and validate the config; raises ConfigError when it cannot be used.

    A home's config goes through state/config.cache (scoot.configcache): an
    unchanged config is not parsed again.
    """
    from scoot import configcache

    loaded: Loaded = configcache.load(path, _load)
    return loaded


def _load(path: Path) -> Loaded:
    data, text = parse_toml(path)
    warnings: list[str] = []
    values: dict[str, Any] = {}
    raw_jobs: list[Any] = []
    for table, value in data.items():
        if table not in _TOP:
            warnings.append(f'unknown key "{table}"{_suggest(table, list(_TOP))}')
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"{_where(path, text, '', table)}: {table} must be a table")
        schema = _TOP[table]
        for key, v in value.items():
            if key not in schema:
                warnings.append(
                    f'unknown key "{key}" in [{table}]{_suggest(key, list(schema))}'
                )
                continue
            check, what = schema[key]
            if not check(v):
                where = _where(path, text, table, key)
                raise ConfigError(f"{where}: {table}.{key} must be {what}, got {_show(v)}")
            if (table, key) == ("schedule", "jobs"):
                raw_jobs = v
            else:
                values[f"{table}_{key}"] = v
    jobs, invalid = _load_jobs(raw_jobs, warnings)
    config = Config(
        path=path,
        schedule_enabled=values.get("schedule_enabled", False),
        poll_ms=values.get("schedule_poll_ms", 1000),
        policy_mode=values.get("policy_mode", "guarded"),
        policy_sandbox=values.get("policy_sandbox", "required"),
        runner_command=tuple(values.get("runner_command", ("/bin/sh", "-c"))),
        runner_timeout_sec=float(values.get("runner_timeout_sec", 3600)),
        output_max_bytes=values.get("runner_output_max_bytes", 1048576),
        runner_env=dict(values.get("runner_env", {})),
        stop_timeout_sec=float(values.get("daemon_stop_timeout_sec", 30)),
        watchdog_sec=values.get("daemon_watchdog_sec", 30),
        jobs=tuple(jobs),
        invalid=tuple(invalid),
    )
    return Loaded(config, warnings)


def _show(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if _is_number(v):
        return str(v)
    return _type_name(v)


class _Invalid(Exception):
    pass


def _load_jobs(raw_jobs: list[Any], warnings: list[str]) -> tuple[list[Job], list[InvalidJob]]:
    jobs: list[Job] = []
    invalid: list[InvalidJob] = []
    first_use: dict[str, int] = {}
    for index, raw in enumerate(raw_jobs, 1):
        label = f"#{index}"
        if isinstance(raw, dict):
            raw_id = raw.get("id")
            if isinstance(raw_id, str) and JOB_ID.match(raw_id):
                label = raw_id
        try:
            if not isinstance(raw, dict):
                raise _Invalid(f"a job must be a table, got {_type_name(raw)}")
            for key in raw:
                if key not in JOB_KEYS:
                    warnings.append(
                        f'unknown key "{key}" in job "{label}"{_suggest(key, JOB_KEYS)}'
                    )
            job = _job(index, raw)
            if job.id in first_use:
                raise _Invalid(f'duplicate id "{job.id}" (first used by job #{first_use[job.id]})')
            first_use[job.id] = index
            if job.trigger.cron is not None and job.trigger.cron.day_or:
                note = job.trigger.cron.both_days_restricted_warning()
                warnings.append(f'job "{job.id}": {note}')
            jobs.append(job)
        except _Invalid as e:
            invalid.append(InvalidJob(index, label, str(e)))
    return jobs, invalid


def _job(index: int, raw: dict[str, Any]) -> Job:
    if "id" not in raw:
        raise _Invalid("missing id")
    job_id = raw["id"]
    if not isinstance(job_id, str):
        raise _Invalid(f"id must be a string, got {_show(job_id)}")
    if not JOB_ID.match(job_id):
        raise _Invalid(
            f'invalid id "{job_id}" (1-64 letters, digits, "_", ".", "-", '
            "starting with a letter or digit)"
        )
    if "goal" not in raw:
        raise _Invalid("missing goal")
    goal = raw["goal"]
    if not isinstance(goal, str):
        raise _Invalid(f"goal must be a string, got {_show(goal)}")
    if not goal.strip():
        raise _Invalid("goal is empty")
    trigger = _trigger(raw)
    mode = raw.get("mode", READONLY)
    if mode not in MODES:
        raise _Invalid(f"unknown mode {_show(mode)} (use readonly, guarded or unrestricted)")
    timeout = raw.get("timeout_sec")
    if timeout is not None and not (_is_number(timeout) and timeout > 0):
        raise _Invalid(f"timeout_sec must be a number > 0, got {_show(timeout)}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _Invalid(f"enabled must be a boolean, got {_show(enabled)}")
    env = raw.get("env", {})
    if not _str_table(env):
        raise _Invalid('env must be a table of NAME = "string"')
    workdir = raw.get("workdir")
    if workdir is not None and not (isinstance(workdir, str) and workdir):
        raise _Invalid(f"workdir must be a non-empty string, got {_show(workdir)}")
    return Job(
        index=index,
        id=job_id,
        goal=goal,
        trigger=trigger,
        mode=mode,
        timeout_sec=float(timeout) if timeout is not None else None,
        enabled=enabled,
        env=dict(env),
        workdir=workdir,
    )


def _trigger(raw: dict[str, Any]) -> Trigger:
    present = [t for t in TRIGGERS if t in raw]
    if not present:
        raise _Invalid("no trigger (set exactly one of every_sec, at_unix, cron)")
    if len(present) > 1:
        raise _Invalid(f"several triggers ({', '.join(present)}): set exactly one")
    kind = present[0]
    value = raw[kind]
    if kind == "every_sec":
        if not (_is_int(value) and value > 0):
            raise _Invalid(f"every_sec must be an integer > 0, got {_show(value)}")
        return Trigger(kind, every_sec=value)
    if kind == "at_unix":
        if not (_is_number(value) and value >= 0):
            raise _Invalid(f"at_unix must be a number >= 0, got {_show(value)}")
        return Trigger(kind, at_unix=float(value))
    if not isinstance(value, str):
        raise _Invalid(f"cron must be a string, got {_show(value)}")
    try:
        return Trigger(kind, cron=cron.parse(value))
    except cron.CronSyntaxError as e:
        raise _Invalid(f'invalid cron "{value}": {e}') from None
