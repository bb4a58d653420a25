"""systemd's notify protocol (sd_notify(3)) in a few lines of stdlib socket code.

The service manager passes `NOTIFY_SOCKET` (a filesystem path, or `@name` for
Linux's abstract namespace); each message is one datagram of `KEY=value` lines in
UTF-8. Without that variable every call here is a no-op, so the daemon runs the
same under launchd, Homebrew's `Type=simple` units or a terminal.

A failed send is reported as False and never raised: losing a status line must not
stop the scheduler. Only OSError is caught, so a programming error still surfaces.

The watchdog is on only when systemd asks for it (`WATCHDOG_USEC`) and the request
is meant for this process (`WATCHDOG_PID` unset or ours). Pings come from the
daemon's own loop, never from a helper thread: a thread would keep pinging for a
loop that hangs, which is exactly what the watchdog exists to catch.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping, MutableMapping

# The variables systemd sets for the main process; a job must never see them (SPEC §6).
ENV_VARS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


def socket_address(value: str | None) -> str | bytes | None:
    """The address to send to, or None when the variable is unset or unusable.

    `@name` is the abstract namespace: the `@` stands for a leading NUL byte.
    Other forms systemd may add (e.g. `vsock:`) are not ours to speak; they count
    as unset rather than failing the daemon.
    """
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None


def watchdog_interval(environ: Mapping[str, str], pid: int) -> float | None:
    """Seconds between two pings (half of WATCHDOG_USEC), or None when the watchdog is off."""
    raw = environ.get("WATCHDOG_USEC", "")
    try:
        usec = int(raw)
    except ValueError:
        return None
    if usec <= 0:
        return None
    owner = environ.get("WATCHDOG_PID")
    if owner:
        try:
            if int(owner) != pid:
                return None
        except ValueError:
            return None
    return usec / 2 / 1_000_000


class Notifier:
    """Sends notify messages for one process; does nothing when there is no socket.

    `monotonic` is the clock that paces watchdog pings; it is a parameter so the
    pacing can be tested without sleeping.
    """

    def __init__(
        self,
        address: str | bytes | None,
        watchdog_interval: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.address = address
        # A ping is useless (and impossible) without a socket to send it to.
        self.watchdog_interval = watchdog_interval if address is not None else None
        self._monotonic = monotonic
        self._sock: socket.socket | None = None
        self._last_ping: float | None = None

    @classmethod
    def from_environ(
        cls, environ: MutableMapping[str, str] | None = None, *, unset: bool = False
    ) -> Notifier:
        """Read the notify variables; with `unset`, remove them so children never inherit them."""
        env = os.environ if environ is None else environ
        notifier = cls(
            socket_address(env.get("NOTIFY_SOCKET")),
            watchdog_interval(env, os.getpid()),
        )
        if unset:
            for name in ENV_VARS:
                env.pop(name, None)
        return notifier

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog_enabled(self) -> bool:
        return self.watchdog_interval is not None

    def send(self, *lines: str) -> bool:
        """One datagram holding `lines`; True when it was handed to the kernel."""
        if self.address is None:
            return False
        for line in lines:
            if "\n" in line:
                raise ValueError(f"a notify field cannot span lines: {line!r}")
        payload = "\n".join(lines).encode("utf-8")
        try:
            if self._sock is None:
                # Python sockets are created close-on-exec, so runs never inherit it.
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.sendto(payload, self.address)
        except OSError:
            return False
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def ready(self, status: str | None = None) -> bool:
        """READY=1, optionally with the first STATUS= line in the same datagram."""
        fields = ["READY=1"]
        if status is not None:
            fields.append(status_field(status))
        ok = self.send(*fields)
        if ok and self.watchdog_enabled:
            # systemd arms the watchdog at READY=1: count the interval from here.
            self._last_ping = self._monotonic()
        return ok

    def status(self, text: str) -> bool:
        return self.send(status_field(text))

    def reloading(self) -> bool:
        """RELOADING=1 with MONOTONIC_USEC in the same datagram, as systemd requires."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def watchdog(self) -> bool:
        """WATCHDOG=1 unconditionally (when the watchdog is on)."""
        if not self.watchdog_enabled:
            return False
        self._last_ping = self._monotonic()
        return self.send("WATCHDOG=1")

    def watchdog_due(self) -> bool:
        if self.watchdog_interval is None:
            return False
        if self._last_ping is None:
            return True
        # Ping once half an interval has passed: with the loop waking at least that
        # often, two pings are never more than one interval (half WATCHDOG_USEC) apart.
        return self._monotonic() - self._last_ping >= self.watchdog_interval / 2

    def watchdog_if_due(self) -> bool:
        return self.watchdog() if self.watchdog_due() else False

    @property
    def sleep_bound(self) -> float | None:
        """The longest the loop may sleep so pings stay on time; None without a watchdog."""
        return None if self.watchdog_interval is None else self.watchdog_interval / 2


def status_field(text: str) -> str:
    """`STATUS=<text>` on one line (systemd shows only a single line anyway)."""
    return "STATUS=" + " ".join(text.splitlines())
