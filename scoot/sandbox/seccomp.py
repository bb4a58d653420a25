"""A small classic-BPF seccomp filter, assembled by hand with ``struct``.

Landlock cannot see UDP, netlink, path-based Unix sockets or io_uring, and it does not
look at chmod modes; this filter closes those gaps. Denials return EPERM so a goal sees
an ordinary error (and the layer is recognisable by its errno); a foreign architecture
or an x32 syscall kills the process, since the numbers below would mean nothing there.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from dataclasses import dataclass

from scoot.sandbox._libc import prctl

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000

# classic BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

# offsets in struct seccomp_data: int nr; u32 arch; u64 ip; u64 args[6]
_OFF_NR = 0
_OFF_ARCH = 4


def _arg_low(n: int) -> int:
    # Both supported architectures are little-endian: the low 32 bits come first.
    return 16 + 8 * n


AF_UNIX = 1
S_ISUID = 0o4000
S_ISGID = 0o2000
X32_SYSCALL_BIT = 0x40000000


@dataclass(frozen=True)
class Arch:
    audit_arch: int
    kill_x32: bool
    socket: int
    socketpair: int
    ptrace: int
    process_vm_readv: int
    process_vm_writev: int
    # (syscall number, index of its mode argument); chmod exists only on x86_64
    chmods: tuple[tuple[int, int], ...]


_IO_URING = (425, 426, 427)  # setup, enter, register: the same on both
_FCHMODAT2 = 452

ARCHES = {
    "x86_64": Arch(0xC000003E, True, 41, 53, 101, 310, 311,
                   ((90, 1), (91, 1), (268, 2), (_FCHMODAT2, 2))),
    "aarch64": Arch(0xC00000B7, False, 198, 199, 117, 270, 271,
                    ((52, 1), (53, 2), (_FCHMODAT2, 2))),
}


def current_arch() -> Arch | None:
    return ARCHES.get(os.uname().machine)


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k & 0xFFFFFFFF)


def build_program(arch: Arch) -> bytes:
    """Assemble the filter. Jumps name labels; offsets are resolved at the end."""
    deny = SECCOMP_RET_ERRNO | errno.EPERM
    prog: list[tuple[int, str | int, str | int, int]] = []
    labels: dict[str, int] = {}

    def emit(code: int, k: int, jt: str | int = 0, jf: str | int = 0) -> None:
        prog.append((code, jt, jf, k))

    def label(name: str) -> None:
        labels[name] = len(prog)

    emit(_LD_W_ABS, _OFF_ARCH)
    emit(_JEQ_K, arch.audit_arch, jt=0, jf="kill")
    emit(_LD_W_ABS, _OFF_NR)
    if arch.kill_x32:
        emit(_JGE_K, X32_SYSCALL_BIT, jt="kill", jf=0)
    for nr in (arch.socket, arch.ptrace, arch.process_vm_readv, arch.process_vm_writev,
               *_IO_URING):
        emit(_JEQ_K, nr, jt="deny", jf=0)
    emit(_JEQ_K, arch.socketpair, jt="socketpair", jf=0)
    for nr, mode_arg in arch.chmods:
        emit(_JEQ_K, nr, jt=f"mode{mode_arg}", jf=0)
    emit(_RET_K, SECCOMP_RET_ALLOW)  # every syscall not named above
    # Classic BPF only jumps forward, so the argument checks come before the shared
    # verdicts they end in.
    label("socketpair")
    emit(_LD_W_ABS, _arg_low(0))
    emit(_JEQ_K, AF_UNIX, jt="allow", jf="deny")
    for mode_arg in sorted({m for _, m in arch.chmods}):
        label(f"mode{mode_arg}")
        emit(_LD_W_ABS, _arg_low(mode_arg))
        emit(_JSET_K, S_ISUID | S_ISGID, jt="deny", jf="allow")
    label("allow")
    emit(_RET_K, SECCOMP_RET_ALLOW)
    label("deny")
    emit(_RET_K, deny)
    label("kill")
    emit(_RET_K, SECCOMP_RET_KILL_PROCESS)

    out = []
    for pc, (code, jt, jf, k) in enumerate(prog):
        offsets = []
        for target in (jt, jf):
            if isinstance(target, str):
                delta = labels[target] - pc - 1
                if not 0 <= delta <= 255:
                    raise ValueError(f"seccomp jump to {target} out of range")
                offsets.append(delta)
            else:
                offsets.append(target)
        out.append(_insn(code, offsets[0], offsets[1], k))
    return b"".join(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(arch: Arch) -> None:
    """Load the filter into this process; requires no_new_privs already set."""
    code = build_program(arch)
    buf = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.addressof(buf))
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog))


def available() -> bool:
    """Whether the kernel supports seccomp filters (read from /proc, no filter loaded)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            return any(line.startswith("Seccomp:") for line in f)
    except OSError:
        return False
