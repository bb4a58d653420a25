"""Mount and network namespaces: the layer that makes ``/`` read-only for the goal.

Only this layer stops chmod/utime/setxattr on files the job's user owns (and, for
root, setuid planting), because Landlock does not mediate metadata changes. As root we
unshare directly; as another user we first need a user namespace mapping our own ids.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path

from scoot.sandbox._libc import SYS_MOUNT_SETATTR, check, libc, syscall

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000

AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def unshare(flags: int) -> None:
    fn = libc().unshare
    fn.argtypes = [ctypes.c_int]
    check(fn(flags), f"unshare({flags:#x})")


def _mount(source: str | None, target: str, flags: int) -> None:
    fn = libc().mount
    fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                   ctypes.c_void_p]
    src = os.fsencode(source) if source is not None else None
    check(fn(src, os.fsencode(target), None, flags, None), f"mount {target}")


def _write_proc(path: str, text: str) -> None:
    # One write(2) per file: the kernel rejects id maps delivered in pieces.
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def enter_user_namespace() -> None:
    """Become 'root' of a fresh user namespace that maps only our own uid and gid.

    Mapping the real ids (not 0) keeps file ownership and permission checks exactly
    as they were; the namespace's capabilities only let us build the mount tree.
    """
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER)
    _write_proc("/proc/self/setgroups", "deny")
    _write_proc("/proc/self/uid_map", f"{uid} {uid} 1\n")
    _write_proc("/proc/self/gid_map", f"{gid} {gid} 1\n")


def _remount_readonly_by_mountinfo() -> None:
    """Fallback for kernels without mount_setattr(2) (before 5.12).

    Remounts every visible mount read-only, repeating the flags it already has because
    inside a user namespace the kernel refuses a remount that would drop locked ones.
    """
    keep = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
            "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME,
            "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().splitlines()
    for line in lines:
        fields = line.split()
        mount_point = _unescape(fields[4])
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt in fields[5].split(","):
            flags |= keep.get(opt, 0)
        try:
            _mount(None, mount_point, flags)
        except OSError as exc:
            # A mount point hidden under another mount cannot be reached by path;
            # the one on top of it is what the goal sees, and it is handled too.
            if exc.errno not in (2, 13):  # ENOENT, EACCES
                raise


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal \NNN.
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _set_readonly(path: str, *, recursive: bool, readonly: bool) -> None:
    attr = _MountAttr()
    if readonly:
        attr.attr_set = MOUNT_ATTR_RDONLY
    else:
        attr.attr_clr = MOUNT_ATTR_RDONLY
    syscall(SYS_MOUNT_SETATTR, AT_FDCWD, ctypes.c_char_p(os.fsencode(path)),
            AT_RECURSIVE if recursive else 0, ctypes.byref(attr), ctypes.sizeof(attr),
            what=f"mount_setattr {path}")


def make_root_readonly(scratch: Path) -> None:
    """In a new mount namespace, make every mount read-only except ``scratch``.

    The caller must already have unshared CLONE_NEWNS (and a user namespace when not
    root). Propagation is made private first so nothing done here leaks to the host.
    """
    _mount(None, "/", MS_REC | MS_PRIVATE)
    # Bind scratch onto itself *before* the tree turns read-only: the new mount is then
    # ours and writable, not a locked copy of a read-only one.
    _mount(str(scratch), str(scratch), MS_BIND | MS_REC)
    try:
        _set_readonly("/", recursive=True, readonly=True)
        _set_readonly(str(scratch), recursive=False, readonly=False)
    except OSError as exc:
        if exc.errno != 38:  # ENOSYS: older kernel, walk the mount table instead
            raise
        _remount_readonly_by_mountinfo()
        _mount(None, str(scratch), MS_REMOUNT | MS_BIND)


def enter_mount_namespace(scratch: Path, *, as_root: bool) -> None:
    """Private mount namespace with ``/`` read-only and ``scratch`` writable."""
    if not as_root:
        enter_user_namespace()
    unshare(CLONE_NEWNS)
    make_root_readonly(scratch)


def enter_network_namespace() -> None:
    """A new, empty network namespace: only a loopback interface that is down."""
    unshare(CLONE_NEWNET)


def trial_in_child(step: Callable[[], None]) -> str | None:
    """Run ``step`` in a forked child and return why it failed, or None if it worked.

    Some hosts (Ubuntu's AppArmor policy, for one) let ``unshare(CLONE_NEWUSER)`` succeed
    and only refuse the uid map afterwards, leaving the caller stuck in a namespace
    where it is nobody. Trying the whole sequence in a throwaway child first means the
    real process only commits to it once it is known to work.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into the caller's code
        code = 0
        try:
            os.close(read_end)
            step()
        except BaseException as exc:
            code = 1
            try:
                os.write(write_end, str(exc).encode(errors="replace")[:500])
            except OSError:
                pass
        os._exit(code)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 4096):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    message = b"".join(chunks).decode(errors="replace").strip()
    return message or f"trial child ended with status {status}"
