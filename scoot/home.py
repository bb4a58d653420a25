"""Every path of a runtime home, in one value object (SPEC §3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from scoot import paths

DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class RuntimeHome:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / paths.CONFIG

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def audit_log(self) -> Path:
        return self.logs / "audit.jsonl"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def daemon_json(self) -> Path:
        return self.state / "daemon.json"

    @property
    def daemon_pid(self) -> Path:
        return self.state / "daemon.pid"

    @property
    def schedule_json(self) -> Path:
        return self.root / paths.SCHEDULE_JSON

    @property
    def fire_journal(self) -> Path:
        """Fires appended before their runs start, until schedule.json records them."""
        return self.state / "schedule.journal"

    @property
    def wake_file(self) -> Path:
        """Small summary of schedule.json read by the nothing-due `--ticks 1` path."""
        return self.root / paths.WAKE

    @property
    def scheduler_lock(self) -> Path:
        """flock held by the one scheduler (loop or daemon) of this home."""
        return self.root / paths.SCHEDULER_LOCK

    @property
    def job_locks(self) -> Path:
        return self.state / "locks"

    def job_lock(self, job_id: str) -> Path:
        return self.job_locks / f"{job_id}.lock"

    @property
    def sessions(self) -> Path:
        return self.state / "sessions"

    def session_dir(self, session_id: str) -> Path:
        return self.sessions / session_id

    @property
    def folders(self) -> tuple[Path, ...]:
        """Folders a provisioned home has, parents first."""
        return (self.root, self.logs, self.state, self.sessions, self.job_locks)

    def ensure_folders(self) -> None:
        """Create the home's folders (0700) where missing; existing ones are left alone."""
        for folder in self.folders:
            try:
                folder.mkdir(mode=DIR_MODE)
            except FileExistsError:
                pass

    def is_provisioned(self) -> bool:
        return self.config.is_file()


def resolve_home(option: str | None, environ: Mapping[str, str] | None = None) -> RuntimeHome:
    """`--scoot-home` wins over `SCOOT_HOME`, which wins over `~/.scoot`."""
    return RuntimeHome(Path(paths.resolve_root(option, environ)))
