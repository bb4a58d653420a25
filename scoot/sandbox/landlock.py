"""Landlock: the layer that confines writes to scratch, TCP, abstract sockets, signals.

Every right the running kernel's ABI knows is declared "handled", so anything not
granted below is denied: read and execute everywhere, every right beneath scratch,
and writing to /dev/null. Network and scope rights are handled with no rule at all,
which denies them outright.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from scoot.sandbox._libc import (
    SYS_LANDLOCK_ADD_RULE,
    SYS_LANDLOCK_CREATE_RULESET,
    SYS_LANDLOCK_RESTRICT_SELF,
    syscall,
)

MIN_ABI = 3  # below 3, truncate() outside scratch is not mediated

LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1


class _RulesetAttr(ctypes.Structure):
    # Always the full 24-byte layout: older kernels accept a larger struct as long as
    # the fields they do not know are zero, which they are below their ABI.
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi_version() -> int:
    """The Landlock ABI of the running kernel, 0 when it has none (or it is disabled)."""
    try:
        return syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0,
                       LANDLOCK_CREATE_RULESET_VERSION, what="landlock_create_ruleset")
    except OSError:
        return 0  # ENOSYS (too old) or EOPNOTSUPP (built but disabled at boot)


def fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def net_rights(abi: int) -> int:
    return NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0


def scopes(abi: int) -> int:
    return SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0


def _add_path_rule(ruleset_fd: int, path: Path, allowed: int) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        rule = _PathBeneathAttr(allowed, fd)
        syscall(SYS_LANDLOCK_ADD_RULE, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH,
                ctypes.byref(rule), 0, what=f"landlock_add_rule {path}")
    finally:
        os.close(fd)


def restrict(scratch: Path, abi: int) -> None:
    """Confine this process (and what it execs) to the readonly policy.

    Requires no_new_privs (or CAP_SYS_ADMIN) to be set already.
    """
    handled_fs = fs_rights(abi)
    attr = _RulesetAttr(handled_fs, net_rights(abi), scopes(abi))
    ruleset_fd = syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                         ctypes.sizeof(attr), 0, what="landlock_create_ruleset")
    try:
        _add_path_rule(ruleset_fd, Path("/"), EXECUTE | READ_FILE | READ_DIR)
        _add_path_rule(ruleset_fd, scratch, handled_fs)
        # Rules on a file may only carry file rights; truncate is harmless on a device
        # and shells open `> /dev/null` with O_TRUNC.
        _add_path_rule(ruleset_fd, Path("/dev/null"),
                       READ_FILE | WRITE_FILE | (TRUNCATE if abi >= 3 else 0))
        syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset_fd, 0, what="landlock_restrict_self")
    finally:
        os.close(ruleset_fd)
