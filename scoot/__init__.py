"""Scoot: run unattended jobs on a schedule, safely.

This package must stay import-light: the sandbox wrapper runs `python -I -m
scoot.sandbox` before every confined goal, and the `--ticks 1` fast path imports it
too, so nothing here may import a third-party module or do work at import time.
"""

__version__ = "0.1.0"
