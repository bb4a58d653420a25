"""Drop every capability and set ``no_new_privs`` (the "nnp" layer).

``no_new_privs`` is what lets an unprivileged process install Landlock and seccomp, and
it stops the goal from regaining privileges through setuid binaries or file
capabilities. Emptying the bounding set as well means that even uid 0 gets no
capabilities back when it execs.
"""

from __future__ import annotations

import ctypes
import errno
from pathlib import Path

from scoot.sandbox._libc import check, libc, prctl

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_GET_NO_NEW_PRIVS = 39
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _last_cap() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text().strip())
    except (OSError, ValueError):
        return 63  # upper bound; dropping an unknown cap fails with EINVAL, ignored


def drop_capabilities_and_set_nnp() -> None:
    for cap in range(_last_cap() + 1):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as exc:
            # EPERM: we lack CAP_SETPCAP (an ordinary user outside a user namespace).
            # Such a process has no capabilities to lose, and no_new_privs below keeps
            # exec from granting any, so the empty capset is enough.
            if exc.errno == errno.EINVAL:
                break
            if exc.errno != errno.EPERM:
                raise
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # kernels before 4.3 have no ambient set
            raise
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()  # all zero: no effective, permitted or inheritable caps
    fn = libc().capset
    fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    check(fn(ctypes.byref(header), ctypes.byref(data)), "capset")
    if prctl(PR_GET_NO_NEW_PRIVS) != 1:
        raise OSError(errno.EPERM, "no_new_privs did not stick")
