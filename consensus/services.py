"""Consensus: keep each space's contradictions current, and their threads.

The pure core (``mola.engine.consensus``) finds contradictions; this module schedules and
runs checks (``consensus_check``, ``consensus_recompute``) and links contradictions to the
threads the community app opens; ``consensus.store`` stores what a check found,
``consensus.decisions`` closes and reopens what moderators decide.
"""

from __future__ import annotations

import gc
import logging
import time

from consensus.loading import current_index, fresh_index
from consensus.models import ConsensusState, Contradiction, ContradictionStatus
from consensus.store import StoreMemory, contradictions_store
from mola.engine.consensus import ConsensusIndex
from mola.engine.consensus.counted import RuleCounts, rule_counts
from teaching.models import Space

log = logging.getLogger(__name__)


def every_rule_counts(index: ConsensusIndex) -> dict[int, RuleCounts]:
    """What each rule's contradictions count (``consensus.evidence``); remembered per rule
    by the index, so after one edit only the ~100 rules it touched are read again."""
    return {rule_id: rule_counts(index, rule_id) for rule_id in index.rules}


SLOW_CHECK_SECONDS = 10.0  # a check slower than this is logged as a warning


def consensus_schedule(*, space_id: int, revision: int, refs: list[tuple[str, int]]) -> None:
    """Queue a consensus check of the space (on commit of a teaching write), without waiting
    for the broker: the write's outbox row keeps the check until it is done."""
    from consensus.tasks import consensus_check_task
    from mola import relay

    relay.send(consensus_check_task, (space_id, revision, [list(ref) for ref in refs]))


def consensus_check(
    *, space_id: int, revision: int = 0, refs: list[tuple[str, int]] | None = None
) -> int:
    """Bring the space's stored contradictions up to date. Returns the revision checked.

    ``revision`` and ``refs`` say what changed; the index works out what to re-check by
    itself, so a lost or reordered task never leaves the store wrong, only late.
    """
    started = time.perf_counter()
    latest = Space.objects.filter(pk=space_id).values_list("teaching_revision", flat=True).first()
    if latest is None:
        return 0
    checked = (
        ConsensusState.objects.filter(space_id=space_id)
        .values_list("checked_revision", flat=True)
        .first()
    )
    if checked is not None and checked >= latest:
        return checked  # a burst of writes: an earlier task already checked the newest state
    enabled, cold = gc.isenabled(), False
    gc.disable()  # see ``_heap_settle``
    try:
        space, current = current_index(space_id, traffic=True)
        cold = current.memory is None
        if cold:
            current.memory = StoreMemory()
        indexed = time.perf_counter()
        contradictions_store(
            space=space,
            found=current.found,
            versions=current.versions,
            revision=current.revision,
            seconds=indexed - started,
            memory=current.memory,
            counts=every_rule_counts(current.index),
        )
    finally:
        # Frozen before the collector is back: else its first young collection scans every
        # object the check made (about a second at M).
        _heap_settle(whole=cold)
        if enabled:
            gc.enable()
    stored = time.perf_counter()
    (log.warning if stored - started > SLOW_CHECK_SECONDS else log.info)(
        "consensus check of space %s at revision %s: %d contradictions, index %.2f s, store %.2f s",
        space_id,
        current.revision,
        len(current.found),
        indexed - started,
        stored - indexed,
    )
    return current.revision


SETTLE_EVERY_CHECKS = 50
_checks_unsettled = 0


def _heap_settle(*, whole: bool) -> None:
    """Keep the cyclic garbage collector off a space's index: a check runs with it paused,
    then moves what is alive into the collector's permanent generation (``gc.freeze``).

    At M the index and the store's memory are millions of long-lived objects that every
    full collection scans again: a warm check after one edit spent 1.3 s per full collection
    (about one in two checks ran one), and half that in younger ones. Frozen objects are
    still freed by reference counting; only garbage held in a reference cycle waits for the
    next whole settle: after a cold build (``whole``), every ``SETTLE_EVERY_CHECKS`` checks,
    and when an index is dropped (``consensus.loading`` unfreezes)."""
    global _checks_unsettled
    _checks_unsettled += 1
    if whole or _checks_unsettled >= SETTLE_EVERY_CHECKS:
        _checks_unsettled = 0
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def consensus_recompute(*, space: Space) -> int:
    """Recompute a space's contradictions from scratch (no cached index), and store them."""
    started = time.perf_counter()
    space, fresh = fresh_index(space.pk)
    contradictions_store(
        space=space,
        found=fresh.found,
        versions=fresh.versions,
        revision=fresh.revision,
        seconds=time.perf_counter() - started,
        force=True,
        counts=every_rule_counts(fresh.index),
    )
    return len(fresh.found)


def contradictions_thread_set(*, space: Space, keys: list[str], thread) -> None:
    """Hand the space's contradictions ``keys`` to ``thread`` (the community app opened it
    for them: ``disputes_grouped``). Call inside the check's write transaction."""
    for start in range(0, len(keys), 500):
        Contradiction.objects.filter(space=space, key__in=keys[start : start + 500]).update(
            thread=thread
        )


def contradictions_attach(*, thread) -> int:
    """Give a thread opened by hand the open contradictions among its teachings that have
    no thread yet.

    The consensus check opens threads only for severe disputes; a member who opens one by
    hand about a milder one should argue about it, and resolving the thread should close
    it. Returns how many were attached.
    """
    mine = {(ref["type"], int(ref["id"])) for ref in thread.teachings}
    loose = Contradiction.objects.filter(
        space_id=thread.space_id, status=ContradictionStatus.OPEN, thread__isnull=True
    ).only("pk", "teachings")
    ids = [c.pk for c in loose if {(ref["type"], int(ref["id"])) for ref in c.teachings} <= mine]
    return Contradiction.objects.filter(pk__in=ids).update(thread=thread)
