"""The one-machine broker: kombu's filesystem transport, with messages written atomically.

kombu's ``filesystem`` transport creates a message file and then writes it, while a worker
lists the folder and takes any ``*.msg`` it finds — sometimes before the writer has finished.
The worker then reads an empty or partial message and dies with "Unrecoverable error:
JSONDecodeError" (seen in our test runs; celery/kombu#1551). Here a message is written under
a name no reader picks up and renamed into place, so a reader sees all of it or nothing.

A worker lists the queue folder every ``polling_interval`` (0.1 s) when it is empty: on
average 50 ms between a teaching write's commit and its retrain starting, up to 100 ms.
With the ``doorbell_folder`` transport option, a consuming process also listens on a
doorbell there (``mola.doorbell``) and a sender rings it once a message is in place, so
the worker lists the folder at once; a ring that is lost leaves the message to the poll.
An ack or a reject wakes the consumer too: with its prefetch slots full it had to leave a
rung message where it was.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps

from mola import doorbell


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` on ``queue``: written to a hidden file, then renamed into place."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot: readers match "<anything>.<queue>.msg" after the first dot, and
        # "<uuid>.part" never matches a queue's pattern.
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.part")
        try:
            with open(partial, "wb") as f:
                f.write(dumps(payload).encode())
            os.replace(partial, final)  # atomic on one filesystem
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc
        folder = self.transport_options.get("doorbell_folder")
        if folder:
            doorbell.ring(Path(folder), b"")

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple)
        self._freed()

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue)
        self._freed()

    def _freed(self) -> None:
        """A prefetch slot came free: wake this process's consumer. While its slots were
        full it left the queue alone and its ring was spent on that; without this wake it
        would take the message waiting there only at its next poll (0.1 s). A worker acks
        from another thread than the one that waits (a retrain's ack after the refine
        task's slot freed: the 110 ms 'queue' stalls of bench/retrain.py)."""
        bell = self.connection._bell
        if bell is not None:
            bell.wake()

    def _get(self, queue):
        """The next message of ``queue``; none while the queue folder cannot be listed.

        The stock transport lets the listing's error out, and the worker dies with
        "Unrecoverable error" when the folder is gone for a moment (a full or remounted
        disk, a restore): the broker is down, not the worker, which takes messages again
        once the folder is back.
        """
        try:
            return super()._get(queue)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            raise Empty() from None


class Transport(filesystem.Transport):
    Channel = Channel
    _bell: doorbell.Doorbell | None = None
    _bell_pid = 0

    def drain_events(self, connection, timeout=None):
        """kombu's loop (list the queues; when empty, wait ``polling_interval``), the wait
        cut short by a ring of this process's doorbell."""
        bell = self._doorbell()
        if bell is None:
            return super().drain_events(connection, timeout)
        started = monotonic()
        interval = self.polling_interval or 1.0
        if timeout:
            interval = min(interval, timeout)
        while True:
            try:
                return self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                if timeout is not None and monotonic() - started >= timeout:
                    raise TimeoutError() from None  # socket.timeout, as kombu raises
                bell.wait(interval)

    def _doorbell(self) -> doorbell.Doorbell | None:
        folder = self.client.transport_options.get("doorbell_folder")
        if not folder:
            return None
        if self._bell_pid != os.getpid():  # a forked child makes its own
            self._bell_pid = os.getpid()
            self._bell = doorbell.listen(Path(folder))  # None: it polls alone
        return self._bell
