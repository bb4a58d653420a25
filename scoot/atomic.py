"""Atomic replacement of state files: temp file in the same folder, fsync, rename."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scoot.home import FILE_MODE


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a write may take only part)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_atomic(
    path: Path, data: bytes | str, mode: int = FILE_MODE, *, sync: bool = True
) -> None:
    """Replace `path` with `data` so a reader sees the old or the new file, never a mix.

    `sync=False` skips the fsyncs: the rename alone already survives a crash of this
    process (the page cache outlives it), not a power cut; for caches.
    """
    raw = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        write_all(fd, raw)
        if sync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)
    if sync:
        _sync_dir(path)


def _sync_dir(path: Path) -> None:
    # The rename itself must reach the disk too, or a crash can bring back the old file.
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_json_atomic(path: Path, obj: Any) -> None:
    write_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_json(path: Path) -> Any:
    """The parsed file, or None when it does not exist."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except FileNotFoundError:
        return None
