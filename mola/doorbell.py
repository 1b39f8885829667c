"""Wake-ups between the processes of one machine, without Redis: a process that waits for
news listens on its own Unix datagram socket in a shared folder (a ``Doorbell``), and
``ring`` sends a short message to every socket in that folder.

Used by warm serving (teaching/services/serving.py) on the embedded defaults: a worker
that publishes a version rings the web processes' watchers, which wake at once instead of
at their next poll of the file cache (25 ms apart: ~12 ms of a teacher's wait on average,
up to ~40 ms when a poll just missed the notice). A ring is a best effort and never blocks
nor raises: a message that cannot be delivered (a full socket buffer, a folder on another
machine) is dropped, and the watcher's poll still finds the notice. A socket left by a
process that died refuses messages; the next ring removes it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import select
import socket
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIX = ".sock"
_MAX_MESSAGE = 256


class Doorbell:
    """This process's socket in ``folder``; ``wait`` returns the messages rung to it."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.pid = os.getpid()  # a forked child makes its own
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._socket.bind(str(self.path))  # OSError on a path too long for AF_UNIX
        except OSError:
            self._socket.close()
            raise
        self._socket.setblocking(False)

    def wait(self, timeout: float) -> list[bytes]:
        """The messages rung since the last call, waiting up to ``timeout`` seconds for
        the first one; [] when none came, or once the bell is closed (at exit, while the
        watcher's daemon thread may still be waiting on it)."""
        if self._socket.fileno() == -1:
            time.sleep(timeout)
            return []
        try:
            readable, _, _ = select.select([self._socket], [], [], timeout)
        except (OSError, ValueError):  # closed under the wait
            return []
        messages = []
        while readable:
            try:
                messages.append(self._socket.recv(_MAX_MESSAGE))
            except OSError:  # nothing more to read, or closed under the read (EBADF)
                break
        return messages

    def wake(self) -> None:
        """Make the ``wait`` under way (or the next one) return at once, with no message;
        nothing in a forked child, whose inherited bell is its parent's."""
        if self.pid != os.getpid():
            return
        with contextlib.suppress(OSError):  # a full buffer: it wakes anyway
            self._socket.sendto(b"", str(self.path))

    def close(self) -> None:
        self._socket.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def listen(folder: Path) -> Doorbell | None:
    """A doorbell for this process in ``folder``, removed at exit; None where it cannot be
    made (a folder path too long for a Unix socket)."""
    try:
        bell = Doorbell(folder)
    except OSError:
        log.warning("no doorbell in %s: news is noticed by polling", folder)
        return None
    atexit.register(bell.close)
    return bell


def ring(folder: Path, message: bytes) -> int:
    """Send ``message`` to every doorbell in ``folder``; how many took it."""
    try:
        paths = [folder / name for name in os.listdir(folder) if name.endswith(SUFFIX)]
    except OSError:  # no folder: nobody listens
        return 0
    delivered = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for path in paths:
            try:
                sender.sendto(message, str(path))
                delivered += 1
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):  # its process is gone
                    path.unlink()
            except OSError:  # a full buffer (it has news to read anyway), a long path
                pass
    return delivered
