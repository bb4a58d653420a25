"""Thin ctypes access to the few Linux system calls the sandbox needs.

Kept in one place so the errno handling is uniform: every call either succeeds or
raises ``OSError`` carrying the kernel's errno, which the wrapper turns into a reason.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

# Syscalls that glibc may not wrap (or wraps only in recent versions). The numbers are
# the same on x86_64 and aarch64 because they were allocated after the tables merged.
SYS_MOUNT_SETATTR = 442
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446

_libc: ctypes.CDLL | None = None


def libc() -> ctypes.CDLL:
    """Return the process's C library, loaded lazily so importing stays free."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def check(result: int, what: str) -> int:
    """Raise ``OSError`` with the current errno when a libc call returned -1."""
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def syscall(number: int, *args: Any, what: str) -> int:
    """Call ``syscall(2)`` directly; pointers and ints are passed as C longs."""
    fn = libc().syscall
    fn.restype = ctypes.c_long
    # Ints become C longs so 64-bit values survive the variadic call; ctypes objects
    # (byref, pointers, buffers) pass through unchanged.
    converted = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    return check(int(fn(ctypes.c_long(number), *converted)), what)


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    fn = libc().prctl
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                   ctypes.c_ulong]
    return check(int(fn(option, arg2, arg3, arg4, arg5)), f"prctl({option})")
