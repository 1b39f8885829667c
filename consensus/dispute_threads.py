"""Open disputes → discussion threads: which disputes share a thread (the grouping itself is
the core's ``ThreadGrouping``, kept in the store's memory so a warm check regroups only
what changed). The community app opens the threads when the check sends it the
groups (``consensus.signals.disputes_grouped``; ``community.services.threads``).

A community drowned in threads stops reading them, so threads are bounded four ways:

1. Only disputes open threads: open, not ``expected`` (a counterexample naming its rule is a
   declared disagreement), and at least ``THREAD_MIN_SEVERITY`` severe (examples that
   clearly settle an overlap make it low; the model learns that precedence by itself).
2. An example that contradicts a rule is discussed in the rule's thread: all ``rule_example``
   contradictions of one rule travel with its most severe one, so a rule that thirty
   examples disagree with is one thread, not thirty.
3. A proposed teaching's disputes open no thread: a reviewer sees them in its review item;
   once it is endorsed they join the queue like any other.
4. Connected disputes share a thread (split at ``THREAD_MAX_SIZE``), and a space has at most
   ``community.services.threads.MAX_OPEN_THREADS`` open consensus threads: the most severe
   disputes get them first, the rest wait in the contradictions queue (most severe first)
   and get a thread as earlier ones are resolved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from mola.engine.consensus import Contradiction as Found
from mola.engine.consensus import Ref, ThreadGroup, ThreadGrouping

THREAD_MIN_SEVERITY = 0.2  # an overlap nobody has examples for is 0.24: talk about it
THREAD_MAX_SIZE = 8


@dataclass(frozen=True)
class _Dispute:
    """What threading needs of an open dispute (the stored row's values)."""

    key: str
    kind: str
    rule_id: int | None  # the rule of a ``rule_example``
    severity: float  # as stored: rounded to 4 places


def _representatives(disputes: list[_Dispute]) -> dict[str, list[_Dispute]]:
    """Representative key → the disputes that follow it (itself first)."""
    followers: dict[str, list[_Dispute]] = {}
    by_rule: dict[int, list[_Dispute]] = defaultdict(list)
    for row in disputes:
        if row.kind == "rule_example":
            by_rule[row.rule_id].append(row)
        else:
            followers[row.key] = [row]
    for rows in by_rule.values():
        rows.sort(key=lambda r: (-r.severity, r.key))
        followers[rows[0].key] = rows
    return followers


def _dispute(found: Found) -> _Dispute:
    rule_id = next((ref.id for ref in found.teachings if ref.type == "rule"), None)
    return _Dispute(found.key, found.kind, rule_id, round(float(found.severity), 4))


@dataclass
class ThreadMemory:
    """What a process keeps between checks of a space so that grouping costs what changed:
    the grouping itself, each found contradiction's ``_Dispute`` (by identity), and the
    leaders and followers of the last plan with what they were worked out from, so that the
    next plan revisits only the keys whose contradiction, or open state, changed."""

    grouping: ThreadGrouping = field(default_factory=lambda: ThreadGrouping(THREAD_MAX_SIZE))
    disputes: dict[str, tuple[Found, _Dispute]] = field(default_factory=dict)
    found: Mapping[str, Found] | None = None  # the found contradictions of the last plan
    # A copy of the last plan's open keys, to compare with; None when that plan was told
    # which keys' open state moved (the next one must be told too, or starts afresh).
    open_keys: set[str] | None = field(default_factory=set)
    held: frozenset[Ref] = frozenset()
    threading: dict[str, _Dispute] = field(default_factory=dict)  # the disputes threaded
    by_rule: dict[int, dict[str, _Dispute]] = field(default_factory=dict)  # rule_example ones
    rule_leader: dict[int, str] = field(default_factory=dict)
    followers: dict[str, list[_Dispute]] = field(default_factory=dict)
    leaders: dict[str, Found] = field(default_factory=dict)
    # The keys of ``leaders`` set or deleted since ``grouping`` last grouped them (None:
    # not known, compare all), so that it compares only those.
    pending: set[str] | None = None

    def _open_moved(self, open_keys: set[str], told: set[str] | None) -> set[str]:
        """The keys whose open state moved since the last plan (or may have: ``told``)."""
        if told is not None:
            return told
        assert self.open_keys is not None  # else ``update`` starts afresh
        return open_keys ^ self.open_keys

    def dispute(self, found: Found) -> _Dispute:
        known = self.disputes.get(found.key)
        if known is None or known[0] is not found:
            known = self.disputes[found.key] = (found, _dispute(found))
        return known[1]

    def update(
        self,
        found: Mapping[str, Found],
        open_keys: set[str],
        held: frozenset[Ref],
        open_moved: set[str] | None = None,
    ):
        """Bring ``leaders`` and ``followers`` up to date (what ``_representatives`` gives
        for the open disputes), revisiting only the keys that changed since the last plan
        (everything when the held teachings changed, or on the first plan); ``found.changed``
        says which when ``found`` is a ``Shown`` refreshed from the last plan's set, and
        ``open_moved`` (when given) holds every key whose open state may have moved since
        the last plan: the ~110k open keys at M are then neither compared nor copied."""
        last = self.found
        if last is None or held != self.held or (open_moved is None and self.open_keys is None):
            self.threading, self.by_rule, self.rule_leader = {}, {}, {}
            self.followers, self.leaders = {}, {}
            self.pending = None
            changed: set[str] = set(open_keys)
        elif getattr(found, "since", None) is last:  # a ``Shown`` refreshed from ``last``
            changed = set(found.changed)  # type: ignore[attr-defined]
            changed |= self._open_moved(open_keys, open_moved)
        else:
            changed = {key for key, item in found.items() if last.get(key) is not item}
            changed |= last.keys() - found.keys()
            changed |= self._open_moved(open_keys, open_moved)
        self.found, self.held = found, held
        self.open_keys = None if open_moved is not None else set(open_keys)
        rules: set[int] = set()
        pending = self.pending if self.pending is not None else set()
        for key in changed:
            before = self.threading.pop(key, None)
            if before is not None:
                if before.kind == "rule_example":
                    del self.by_rule[before.rule_id][key]
                    rules.add(before.rule_id)
                else:
                    del self.followers[key], self.leaders[key]
                    pending.add(key)
            item = found.get(key)
            if item is None or key not in open_keys or item.expected:
                continue
            if held and held.intersection(item.teachings):
                continue
            dispute = self.dispute(item)
            if dispute.severity < THREAD_MIN_SEVERITY:
                continue
            self.threading[key] = dispute
            if dispute.kind == "rule_example":
                self.by_rule.setdefault(dispute.rule_id, {})[key] = dispute
                rules.add(dispute.rule_id)
            else:
                self.followers[key], self.leaders[key] = [dispute], item
                pending.add(key)
        for rule_id in rules:  # all its rule_example disputes travel with its most severe
            leader = self.rule_leader.pop(rule_id, None)
            if leader is not None:
                del self.followers[leader], self.leaders[leader]
                pending.add(leader)
            rows = sorted(
                self.by_rule.get(rule_id, {}).values(), key=lambda r: (-r.severity, r.key)
            )
            if not rows:
                self.by_rule.pop(rule_id, None)
                continue
            self.rule_leader[rule_id] = rows[0].key
            self.followers[rows[0].key], self.leaders[rows[0].key] = rows, found[rows[0].key]
            pending.add(rows[0].key)
        if self.pending is not None:
            self.pending = pending
        if len(self.disputes) > 2 * len(found):
            self.disputes = {k: v for k, v in self.disputes.items() if k in found}


class DisputeGroup:
    """One thread's worth of disputes: the thread it had (None: a new one), its title and
    teachings (``[{"type", "id"}]``), the keys of the contradictions it holds, and the
    severity of its most severe dispute. Teachings and keys are worked out when read: a
    check at M hands up ~12k groups, of which the community opens threads for at most 30."""

    __slots__ = ("_followers", "_group", "_threaded")

    def __init__(
        self,
        group: ThreadGroup,
        followers: dict[str, list[_Dispute]],
        threaded: Mapping[str, int],
    ) -> None:
        self._group, self._followers, self._threaded = group, followers, threaded

    @property
    def thread_id(self) -> int | None:
        return self._group.thread_id

    @property
    def title(self) -> str:
        return self._group.title

    @property
    def severity(self) -> float:
        return self._group.severity

    @property
    def teachings(self) -> list[dict]:
        return [{"type": ref.type, "id": ref.id} for ref in self._group.teachings]

    @property
    def keys(self) -> list[str]:
        followers = self._followers
        return [row.key for key in self._group.contradiction_keys for row in followers.get(key, [])]

    def keys_off(self, thread_id: int) -> list[str]:
        """The keys whose stored row is not on thread ``thread_id`` yet (as read for the
        plan, which the write holds to: its generation)."""
        threaded = self._threaded
        return [key for key in self.keys if threaded.get(key) != thread_id]


@dataclass
class ThreadPlan:
    """Threads worked out from what a check found, before any write: the groups (most
    severe first, old thread ids kept), per representative the disputes that follow it, and
    the thread each open stored row is on."""

    groups: list[ThreadGroup]
    followers: dict[str, list[_Dispute]]
    threaded: Mapping[str, int] = field(default_factory=dict)


def threads_plan(
    *,
    found: dict[str, Found],
    open_keys: set[str],
    threaded: dict[str, int],
    held: set[Ref] | frozenset[Ref] = frozenset(),
    memory: ThreadMemory | None = None,
    open_moved: set[str] | None = None,
) -> ThreadPlan:
    """Group the open disputes among ``open_keys`` (the found contradictions that are open
    once the check is stored) into threads. ``threaded``: the thread of each open stored
    contradiction that has one. ``held``: teachings whose disputes open no thread (proposed
    ones: reviewed, not discussed; once endorsed, their disputes join the queue). No database
    access: this runs before the write lock is taken (at M it groups ~100k disputes).
    ``memory``: what the last plan of this space in this process kept (a fresh one groups
    from scratch, with the same result). ``open_moved``: see ``ThreadMemory.update``."""
    memory = ThreadMemory() if memory is None else memory
    memory.update(found, open_keys, frozenset(held), open_moved)
    leaders = memory.leaders
    previous = {key: thread for key, thread in threaded.items() if key in leaders}
    groups = memory.grouping.group(leaders, previous, memory.pending)
    memory.pending = set()
    # A copy: the memory's dict changes with the next plan, the groups are read before.
    return ThreadPlan(groups, dict(memory.followers), threaded)


def thread_requests(plan: ThreadPlan) -> list[DisputeGroup]:
    """What the community app is asked to open threads for (``disputes_grouped``): each
    group, most severe first, with every contradiction key that travels with it."""
    return [DisputeGroup(group, plan.followers, plan.threaded) for group in plan.groups]
