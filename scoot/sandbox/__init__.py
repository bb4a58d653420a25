"""The readonly sandbox: a wrapper exec'd in front of every confined goal.

Everything in this package imports the standard library only. The wrapper runs as
``python -I -m scoot.sandbox`` before the goal, so pulling in third-party modules (or the
rest of Scoot) would slow every run and widen what the goal's confinement depends on.
"""

from __future__ import annotations
