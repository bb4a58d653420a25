"""A cache of the validated config, so a restart does not re-parse 10,000 jobs (SPEC §13).

Parsing and validating a 10,000-job config.toml takes about a second here (tomllib
is pure Python, and each cron expression is checked field by field), which alone
would break the daemon's start-up budget of 0.5 s. `state/config.cache` keeps the
result of `scoot.config.load` (config, invalid jobs, warnings) as marshal data,
keyed by:
- the stat() identity of config.toml (device, inode, size, mtime and ctime in ns),
  taken before the file is read, so an edit during the read only makes the entry
  stale;
- the Python version, Scoot's version and the stat() identity of the modules that
  decide what a config means (config.py, cron.py, modes.py), so an upgrade or an
  edited checkout never reads a result computed by other code.
Any mismatch, a missing or unreadable file, a file not owned by this user or
writable by others, or malformed content: the config is parsed as usual and the
cache rewritten. It is a cache only: losing it (or a torn one after a crash, which
is why it is not fsynced) costs one parse.

marshal, not pickle: it builds plain values only (no code runs while loading),
and it is several times faster. The frozen dataclasses are rebuilt by filling
their `__dict__`, which is what their generated `__init__` ends with anyway.
"""

from __future__ import annotations

import gc
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scoot import __version__
from scoot.atomic import write_atomic

FORMAT = 1
NAME = "config.cache"


def cache_path(config_path: Path) -> Path | None:
    """`<home>/state/config.cache` for a home's config.toml; None for other files."""
    if config_path.name != "config.toml":
        return None
    return config_path.parent / "state" / NAME


def _identity(path: str | None) -> tuple[int, ...]:
    if path is None:
        return ()
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _code_key() -> tuple[Any, ...]:
    from scoot import config, cron, modes

    return (FORMAT, sys.version, __version__,
            *(_identity(m.__file__) for m in (config, cron, modes)))


def load(config_path: Path, parse: Callable[[Path], Any]) -> Any:
    """`parse(config_path)`, or its cached result while the key still holds."""
    cache = cache_path(config_path)
    if cache is None:
        return parse(config_path)
    try:
        key = (_code_key(), _identity(str(config_path)))
    except OSError:
        return parse(config_path)  # no config file: let the parser say so
    loaded = _read(cache, key)
    if loaded is not None:
        return loaded
    loaded = parse(config_path)
    _write(cache, key, loaded)
    return loaded


def _read(cache: Path, key: tuple[Any, ...]) -> Any:
    try:
        fd = os.open(cache, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        # Only what this user wrote, and nobody else could have changed.
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            raw = f.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    enabled = gc.isenabled()
    gc.disable()  # tens of thousands of new containers: collections would only slow it
    try:
        doc = marshal.loads(raw)
        if not isinstance(doc, tuple) or len(doc) != 2 or doc[0] != key:
            return None
        return _decode(doc[1])
    except (ValueError, EOFError, TypeError, KeyError, IndexError):
        return None
    finally:
        if enabled:
            gc.enable()


def _write(cache: Path, key: tuple[Any, ...], loaded: Any) -> None:
    if not cache.parent.is_dir():
        return  # not a provisioned home: caching is not ours to start here
    try:
        raw = marshal.dumps((key, _encode(loaded)))
    except ValueError:
        return  # a value marshal cannot hold: go without a cache
    try:
        write_atomic(cache, raw, sync=False)  # a cache: losing it costs one parse
    except OSError:
        pass


# --- plain values <-> the config's objects --------------------------------------------


def _encode(loaded: Any) -> tuple[Any, ...]:
    config = loaded.config
    top = dict(vars(config))
    top["path"] = str(config.path)
    top["runner_env"] = dict(config.runner_env)
    # Equal values become one object, which marshal then writes once and refers to:
    # many jobs share a field such as `*` or a whole expression.
    shared: dict[Any, Any] = {}
    top["jobs"] = tuple(_encode_job(j, shared) for j in config.jobs)
    top["invalid"] = tuple(dict(vars(bad)) for bad in config.invalid)
    return top, list(loaded.warnings)


def _encode_job(job: Any, shared: dict[Any, Any]) -> dict[str, Any]:
    data = dict(vars(job))
    trigger = dict(vars(job.trigger))
    expr = trigger["cron"]
    if expr is not None:
        cron = dict(vars(expr))
        cron["fields"] = shared.setdefault(expr.fields, expr.fields)
        values = tuple(shared.setdefault(v, v) for v in expr.values)
        cron["values"] = shared.setdefault(values, values)
        trigger["cron"] = cron
    data["trigger"] = trigger
    data["env"] = dict(job.env)
    return data


def _decode(doc: tuple[Any, ...]) -> Any:
    from scoot.config import Config, InvalidJob, Job, Loaded, Trigger
    from scoot.cron import CronExpr

    new = object.__new__
    checked: set[type] = set()

    def build(cls: type, fields: dict[str, Any]) -> Any:
        # The code key already ties the cache to these classes; one look per class
        # guards against a mismatch all the same.
        if cls not in checked:
            if fields.keys() != cls.__dataclass_fields__.keys():  # type: ignore[attr-defined]
                raise KeyError(cls.__name__)
            checked.add(cls)
        obj: Any = new(cls)
        obj.__dict__.update(fields)
        return obj

    top, warnings = doc
    jobs = []
    for data in top["jobs"]:
        trigger = data["trigger"]
        if trigger["cron"] is not None:
            trigger["cron"] = build(CronExpr, trigger["cron"])
        data["trigger"] = build(Trigger, trigger)
        jobs.append(build(Job, data))
    top["jobs"] = tuple(jobs)
    top["invalid"] = tuple(build(InvalidJob, bad) for bad in top["invalid"])
    top["path"] = Path(top["path"])
    return Loaded(build(Config, top), list(warnings))
