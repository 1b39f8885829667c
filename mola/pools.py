"""The worker pools: each kind of background work on its own queue and its own processes.

A consensus check of a bulk-imported space can take minutes; a retrain takes a second and a
teacher waits for it. On one queue, a long check held a worker process that the next
retrain then waited for. So each kind has its queue (``CELERY_TASK_ROUTES`` in settings send
every task to it, whoever sends: a write's relay, the sweep, a retry) and each queue its
pool of worker processes, started by one command per pool (``worker_args``). The pools
scale by adding processes — on this machine or another — with the same command; the
training claims, the outbox and the leases keep any number of them correct.

| pool | queues | concurrency | why |
| --- | --- | --- | --- |
| training | ``training``: quick retrains, refines | 2 | short CPU-bound fits; a teacher waits |
| consensus | ``consensus``: checks; ``celery``: unrouted tasks | 1 | long CPU-bound checks |

A consensus pool process runs at a lower CPU priority (``CONSENSUS_NICE``), and so does a
refine's fit (``REFINE_NICE``, ``yielding``): where they share cores with a quick retrain
or a web process, the work someone waits for goes first (Linux's scheduler gives a nice-10
thread about a tenth of a nice-0 one's share when both want the core; alone, it runs at
full speed).

Prefetch is 1 for both (with late acks a prefetched task would wait behind the one
running: a refine behind a retrain's fit, a small space's check behind a bulk import's).
A consensus pool process keeps one warm index per space (``consensus/loading.py``): one
child per process means checks of a space meet the same index. Time limits are the tasks'
own (retrain and refine 300 s, a check 30 min: see ``teaching/tasks.py`` and
``consensus/tasks.py``).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

TRAINING_QUEUE = "training"
CONSENSUS_QUEUE = "consensus"
DEFAULT_QUEUE = "celery"  # Celery's default: tasks no route names (``mola.echo``)

# Which queue each task goes to; settings hand this to Celery as ``task_routes``.
ROUTES: dict[str, dict[str, str]] = {
    "teaching.retrain_space": {"queue": TRAINING_QUEUE},
    "teaching.refine_space": {"queue": TRAINING_QUEUE},
    "consensus.check": {"queue": CONSENSUS_QUEUE},
}


@dataclass(frozen=True)
class Pool:
    name: str
    queues: tuple[str, ...]
    concurrency: int  # processes in the pool (Celery's prefork children)
    prefetch: int = 1  # tasks each child reserves beyond the one it runs


POOLS: dict[str, Pool] = {
    "training": Pool("training", (TRAINING_QUEUE,), concurrency=2),
    "consensus": Pool("consensus", (CONSENSUS_QUEUE, DEFAULT_QUEUE), concurrency=1),
}
ALL_QUEUES = (TRAINING_QUEUE, CONSENSUS_QUEUE, DEFAULT_QUEUE)


def worker_args(
    pool: Pool,
    *,
    hostname: str | None = None,
    concurrency: int | None = None,
    loglevel: str = "INFO",
    python: bool = False,
) -> list[str]:
    """The command that runs a worker of ``pool`` (``python``: as ``python -m celery``, with
    this interpreter). ``hostname``: Celery's node name, ``<pool>@%h`` by default (unique per
    machine, so ``docker compose --scale`` and several machines need nothing more)."""
    head = [sys.executable, "-m", "celery"] if python else ["celery"]
    return [
        *head,
        *("-A", "mola", "worker"),
        f"--queues={','.join(pool.queues)}",
        f"--concurrency={concurrency or pool.concurrency}",
        f"--prefetch-multiplier={pool.prefetch}",
        f"--hostname={hostname or pool.name + '@%h'}",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
    ]


def all_queues_args(*, hostname: str, concurrency: int, loglevel: str = "INFO") -> list[str]:
    """One worker that consumes every queue (the tests' session worker: few tasks, one
    process). Not for production: there a check would hold a retrain back."""
    every = Pool("all", ALL_QUEUES, concurrency=concurrency)
    return worker_args(every, hostname=hostname, loglevel=loglevel, python=True)


class CallerLeft(Exception):
    """Raised in ``yielding``'s work by ``in_caller`` once the caller stopped waiting."""


def yielding(nice: int, work: Callable[[Callable[[Callable[[], Any]], Any]], T]) -> T:
    """``work(in_caller)`` in a thread of its own at nice value ``nice`` (threads it starts,
    such as a forest's, inherit it); its result, or its exception raised here.

    A thread of its own because an unprivileged process may lower its priority but never
    raise it back, and on Linux the nice value is per thread. ``in_caller(f)`` runs ``f()``
    in the calling thread and returns what it returned: the caller's database connection
    (and transaction) stays the only one used. If the caller stops waiting (an exception
    raised in it meanwhile, such as Celery's soft time limit), ``in_caller`` raises
    ``CallerLeft`` in the work, which then ends rather than run on unseen. ``nice`` <= 0
    runs ``work`` here, unchanged.
    """
    if nice <= 0:
        return work(lambda f: f())
    asks: queue.Queue = queue.Queue()
    done = object()
    left = threading.Event()
    outcome: dict[str, Any] = {}

    def in_caller(f: Callable[[], Any]) -> Any:
        if left.is_set():
            raise CallerLeft
        answer: queue.Queue = queue.Queue(maxsize=1)
        asks.put((f, answer))
        while True:
            try:
                ok, value = answer.get(timeout=0.5)
                break
            except queue.Empty:
                if left.is_set():
                    raise CallerLeft from None
        if not ok:
            raise value
        return value

    def run() -> None:
        try:
            lowered = min(19, os.getpriority(os.PRIO_PROCESS, 0) + nice)
            os.setpriority(os.PRIO_PROCESS, 0, lowered)  # 0: this thread, on Linux
            outcome["value"] = work(in_caller)
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error
        finally:
            asks.put(done)

    threading.Thread(target=run, name="mola-yielding", daemon=True).start()
    try:
        while (ask := asks.get()) is not done:
            f, answer = ask
            try:
                answer.put((True, f()))
            except BaseException as error:
                answer.put((False, error))
    except BaseException:
        left.set()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def nice_for(queues: set[str], consensus_nice: int) -> int:
    """How much lower a worker process consuming ``queues`` runs: a consensus-only process
    by ``consensus_nice``; a process that also retrains (the tests' all-queue worker) not
    at all, since a teacher waits for its retrains."""
    if not queues or TRAINING_QUEUE in queues:
        return 0
    return max(0, consensus_nice)
