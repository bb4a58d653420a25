"""state/config.cache: an unchanged config is not parsed again, and nothing else changes."""

from __future__ import annotations

import os
import subprocess
import sys

from scoottest import Scoot, scoot_env

from scoot.config import _load, load
from scoot.home import RuntimeHome

from .helpers import job

BODY = (
    job("a", "true", 'cron = "0 3 1 * mon"')  # both day fields: a warning
    + job("b", "true", "every_sec = 60", extra='env = { X = "1" }')
    + job("c", "true", "at_unix = 1893456000.5")
    + '[[schedule.jobs]]\nid = "bad"\ngoal = "true"\n'  # no trigger: invalid
    + '[[schedule.jobs]]\nid = "d"\ngoal = "true"\nevry_sec = 5\nevery_sec = 5\n'
)

# Prints which path load() took: "parsed" when scoot.config parsed TOML.
PROBE = """
import sys
from pathlib import Path
import scoot.config as c
seen = []
real = c.parse_toml
c.parse_toml = lambda p: (seen.append(1), real(p))[1]
loaded = c.load(Path(sys.argv[1]))
print("parsed" if seen else "cached", len(loaded.config.jobs), len(loaded.config.invalid),
      len(loaded.warnings))
"""


def probe(home: RuntimeHome) -> str:
    r = subprocess.run([sys.executable, "-c", PROBE, str(home.config)], env=scoot_env(home),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def cache(home: RuntimeHome) -> str:
    return str(home.state / "config.cache")


def test_a_cached_load_equals_a_fresh_parse(scoot: Scoot) -> None:
    scoot.write_config(BODY)
    first = load(scoot.home.config)
    assert os.path.exists(cache(scoot.home))
    assert os.stat(cache(scoot.home)).st_mode & 0o777 == 0o600
    again = load(scoot.home.config)
    assert again == first == _load(scoot.home.config)
    assert again.warnings and [bad.label for bad in again.config.invalid] == ["bad"]


def test_only_an_unchanged_config_is_served_from_the_cache(scoot: Scoot) -> None:
    scoot.write_config(BODY)
    assert probe(scoot.home) == "parsed 4 1 2"
    assert probe(scoot.home) == "cached 4 1 2"
    scoot.write_config(BODY + job("e", "true"))  # any edit: parsed again
    assert probe(scoot.home) == "parsed 5 1 2"
    assert probe(scoot.home) == "cached 5 1 2"


def test_a_damaged_or_foreign_cache_is_ignored(scoot: Scoot) -> None:
    scoot.write_config(BODY)
    probe(scoot.home)
    with open(cache(scoot.home), "r+b") as f:
        f.truncate(100)
    assert probe(scoot.home) == "parsed 4 1 2"
    os.chmod(cache(scoot.home), 0o666)  # others could have written it
    assert probe(scoot.home) == "parsed 4 1 2"
    assert os.stat(cache(scoot.home)).st_mode & 0o777 == 0o600  # rewritten


def test_warnings_still_show_on_every_run(scoot: Scoot) -> None:
    scoot.write_config(BODY)
    for _ in range(2):  # the second run reads the cache
        r = scoot("schedule", "list")
        assert r.returncode == 0
        assert 'unknown key "evry_sec" in job "d" (did you mean "every_sec"?)' in r.stderr
        assert 'job "bad" skipped: no trigger' in r.stderr
