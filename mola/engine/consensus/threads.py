"""Group contradictions into discussion threads a community can follow.

Teachings are nodes and contradictions edges; each connected component is one thread, so
everyone arguing about the same teachings meets in one place. A component with more than
``max_size`` contradictions is split by teaching (each contradiction goes with its teaching
that takes part in most of them; each teaching's share is cut into threads of ``max_size``),
and the remainders are packed first-fit-decreasing into threads of at most ``max_size``.
Everything a component's threads depend on lies in the component, so ``ThreadGrouping``
(``thread_grouping.py``) keeps the grouping current by regrouping only the components a
change touched.

How many threads: a component with m <= max_size contradictions gives one thread; a bigger
one gives at most floor(2 m / max_size) + 1, because the cut threads are full and first-fit
leaves at most one thread half full or less (two such threads would have been packed into
one). So from scratch::

    threads <= components + 2 * contradictions / max_size

Identity: ``previous`` maps contradiction keys to the threads they were in. A thread keeps
its id while its contradictions stay; a new contradiction in the same component joins it
(in a split component: the old thread it shares most teachings with, while it has room);
when a component now holds contradictions of several old threads, the id that held most of
them wins and the others are left for the caller to close or merge.
"""

from __future__ import annotations

import bisect
import gc
import heapq
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from mola.engine.consensus.items import Contradiction, Ref


@dataclass(frozen=True)
class ThreadGroup:
    """One thread's contradictions; ``thread_id`` is None for a thread to create."""

    thread_id: int | None
    contradiction_keys: tuple[str, ...]
    teachings: tuple[Ref, ...]
    title: str
    severity: float = 0.0  # of its most severe contradiction


def group_into_threads(
    contradictions: Sequence[Contradiction],
    previous: Mapping[str, int] | None = None,
    *,
    max_size: int = 8,
) -> list[ThreadGroup]:
    """Threads for ``contradictions`` (see the module docstring), most severe first, from
    scratch (``ThreadGrouping`` keeps the same result current across calls)."""
    collecting = gc.isenabled()
    gc.disable()  # many small objects and no cycles: see ConsensusIndex.detect_all
    try:
        by_key = {found.key: found for found in contradictions}
        previous = previous or {}
        groups = [
            group
            for keys in components(by_key)
            for group in component_groups(keys, by_key, previous, max_size)
        ]
        ids = assign_ids(groups, previous)
        threads = [thread(keys, i, by_key) for keys, i in zip(groups, ids, strict=True)]
        return sorted(threads, key=thread_order)
    finally:
        if collecting:
            gc.enable()


def components(by_key: Mapping[str, Contradiction]) -> list[list[str]]:
    """The keys of each connected component (teachings linked by contradictions), sorted,
    the components in the order of their smallest teaching."""
    refs = sorted({ref for found in by_key.values() for ref in found.teachings})
    node_of = {ref: i for i, ref in enumerate(refs)}
    parent = list(range(len(refs)))
    first_node: dict[str, int] = {}
    for key, found in by_key.items():
        first, *others = (node_of[ref] for ref in found.teachings)
        first_node[key] = first
        for other in others:
            root_a, root_b = _root(parent, first), _root(parent, other)
            if root_a != root_b:
                parent[max(root_a, root_b)] = min(root_a, root_b)
    members: dict[int, list[str]] = defaultdict(list)
    for key in sorted(by_key):
        members[_root(parent, first_node[key])].append(key)
    return [members[root] for root in sorted(members)]


def component_groups(
    keys: list[str],
    by_key: Mapping[str, Contradiction],
    previous: Mapping[str, int],
    max_size: int,
    shares: Shares | None = None,
) -> list[list[str]]:
    """One component's groups of keys: the whole component when it fits in a thread, else
    its old threads kept and the rest split (``_split_component``). Depends only on the
    component's keys (a key names its teachings) and ``previous`` of those keys.
    ``shares``: what the last split of this component kept (``ThreadGrouping``), so that
    the split costs what changed; the result is the same without it."""
    if len(keys) <= max_size:
        return [keys]
    return _split_component(keys, by_key, previous, max_size, shares)


def thread(
    keys: list[str], thread_id: int | None, by_key: Mapping[str, Contradiction]
) -> ThreadGroup:
    """The ``ThreadGroup`` of one group of keys."""
    found = [by_key[key] for key in keys]
    return ThreadGroup(
        thread_id=thread_id,
        contradiction_keys=tuple(keys),
        teachings=tuple(sorted({ref for item in found for ref in item.teachings})),
        title=_title(found),
        severity=max(item.severity for item in found),
    )


def thread_order(group: ThreadGroup) -> tuple[float, str]:
    return (-group.severity, group.contradiction_keys[0])


class Budgeted(Protocol):
    """What the budget needs of a group: the thread it has (None: it waits for a new one)
    and the severity of its most severe dispute."""

    @property
    def thread_id(self) -> int | None: ...

    @property
    def severity(self) -> float: ...


G = TypeVar("G", bound=Budgeted)


def threads_within_budget(groups: Sequence[G], *, open_elsewhere: int, max_open: int) -> list[G]:
    """The groups that get a thread, most severe first: every group that has a thread keeps
    it (people may be talking there), and groups without one get a new thread, the most
    severe first, while fewer than ``max_open`` threads would be open (``open_elsewhere``:
    open threads that are not among ``groups``). The rest wait in the queue and get a thread
    as earlier ones are resolved. ``O(n log n)`` in the groups; never more than ``max_open``
    threads besides the kept ones."""
    kept = [g for g in groups if g.thread_id is not None]
    room = max(0, max_open - open_elsewhere - len(kept))
    order = {id(g): i for i, g in enumerate(groups)}  # ties: the order they came in
    fresh = heapq.nsmallest(
        room,
        (g for g in groups if g.thread_id is None),
        key=lambda g: (-g.severity, order[id(g)]),
    )
    return sorted(kept + fresh, key=lambda g: (-g.severity, order[id(g)]))


def _root(parent: list[int], node: int) -> int:
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def _split_component(
    keys: list[str],
    by_key: Mapping[str, Contradiction],
    previous: Mapping[str, int],
    max_size: int,
    shares: Shares | None = None,
) -> list[list[str]]:
    """Keep the old threads of a big component, let new contradictions join the one they
    touch most (in key order, while it has room), and partition the rest afresh."""
    old: dict[int, list[str]] = defaultdict(list)
    fresh: list[str] = []
    for key in keys:
        if key in previous:
            old[previous[key]].append(key)
        else:
            fresh.append(key)
    kept: list[list[str]] = []
    for thread_id in sorted(old):  # an old thread now too big (max_size changed): chunk it
        members = old[thread_id]
        kept += [members[i : i + max_size] for i in range(0, len(members), max_size)]
    teachings_of = [{ref for key in group for ref in by_key[key].teachings} for group in kept]
    holding: dict[Ref, set[int]] = defaultdict(set)  # teaching -> kept groups touching it
    for index, teachings in enumerate(teachings_of):
        for ref in teachings:
            holding[ref].add(index)
    leftovers = []
    for key in fresh:
        mine = by_key[key].teachings
        near = {index for ref in mine if ref in holding for index in holding[ref]}
        best = max(
            (
                (len(teachings_of[index].intersection(mine)), -index)
                for index in near
                if len(kept[index]) < max_size
            ),
            default=None,
        )
        if best is None:
            leftovers.append(key)
            continue
        index = -best[1]
        kept[index].append(key)
        for ref in mine:
            teachings_of[index].add(ref)
            holding[ref].add(index)
    if shares is not None:
        return kept + shares.partition(leftovers, by_key)
    return kept + _partition(leftovers, by_key, max_size)


class Shares:
    """``_partition`` of a changing set of keys, kept current: a key's anchor (its teaching
    in most of the keys) moves only when the degree of one of its teachings moves, so an
    update re-anchors the keys of the teachings the added and removed keys touch, and
    rebuilds the shares' cuts and the packing (cheap: one list per teaching) rather than
    every key's anchor (a component of ~100k disputes at M: a second per check)."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.keys: set[str] = set()
        self.teachings: dict[str, tuple[Ref, ...]] = {}
        self.degree: Counter[Ref] = Counter()
        self.at: dict[Ref, set[str]] = defaultdict(set)  # teaching -> keys holding it
        self.anchor: dict[str, Ref] = {}
        self.shares: dict[Ref, list[str]] = {}  # anchor -> its keys, sorted

    def partition(self, keys: list[str], by_key: Mapping[str, Contradiction]) -> list[list[str]]:
        """``_partition(keys, by_key, self.max_size)`` (``keys`` sorted)."""
        wanted = set(keys)
        gone, came = self.keys - wanted, wanted - self.keys
        self.keys = wanted
        touched: set[Ref] = set()
        for key in gone:
            for ref in self.teachings.pop(key):
                self.degree[ref] -= 1
                self.at[ref].discard(key)
                touched.add(ref)
            self._leave(key, self.anchor.pop(key))
        for key in came:
            teachings = self.teachings[key] = by_key[key].teachings
            for ref in teachings:
                self.degree[ref] += 1
                self.at[ref].add(key)
                touched.add(ref)
        degree = self.degree
        for ref in touched:
            if not degree[ref]:
                del degree[ref], self.at[ref]
        moved = {key for ref in touched if ref in self.at for key in self.at[ref]}
        for key in moved:  # the shares stay sorted whatever the order
            anchor = min(self.teachings[key], key=lambda ref: (-degree[ref], ref))
            before = self.anchor.get(key)
            if before != anchor:
                if before is not None:
                    self._leave(key, before)
                self.anchor[key] = anchor
                bisect.insort(self.shares.setdefault(anchor, []), key)
        if len(keys) <= self.max_size:
            return [keys] if keys else []
        full: list[list[str]] = []
        rest: list[list[str]] = []
        size = self.max_size
        for anchor in sorted(self.shares):
            share = self.shares[anchor]
            cut = len(share) - len(share) % size
            full += [share[i : i + size] for i in range(0, cut, size)]
            if cut < len(share):
                rest.append(share[cut:])
        return full + _pack(rest, size)

    def _leave(self, key: str, anchor: Ref) -> None:
        share = self.shares[anchor]
        del share[bisect.bisect_left(share, key)]
        if not share:
            del self.shares[anchor]


def _partition(
    keys: list[str], by_key: Mapping[str, Contradiction], max_size: int
) -> list[list[str]]:
    """Split ``keys`` (sorted) by teaching: each contradiction goes with its teaching that
    takes part in most of them (the smallest on a tie), so a thread reads as "rule #12
    against these", each teaching's share is cut in order into threads of ``max_size`` and
    the remainders are packed together. Local by design: a changed contradiction moves
    only the shares of its teachings (Louvain communities, used before, moved everything)."""
    if len(keys) <= max_size:
        return [keys] if keys else []
    degree: Counter[Ref] = Counter(ref for key in keys for ref in by_key[key].teachings)
    shares: dict[Ref, list[str]] = defaultdict(list)
    for key in keys:
        teachings = by_key[key].teachings
        shares[min(teachings, key=lambda ref: (-degree[ref], ref))].append(key)
    full: list[list[str]] = []
    rest: list[list[str]] = []
    for anchor in sorted(shares):
        share = shares[anchor]
        cut = len(share) - len(share) % max_size
        full += [share[i : i + max_size] for i in range(0, cut, max_size)]
        if cut < len(share):
            rest.append(share[cut:])
    return full + _pack(rest, max_size)


def _pack(pieces: list[list[str]], max_size: int) -> list[list[str]]:
    """First-fit decreasing: at most one result is half full or less.

    The first bin with room is found among the bins of each fill (a heap of bin numbers per
    fill, at most ``max_size`` heaps) rather than by walking every bin, which was quadratic
    in the pieces of a large component (tens of seconds at 100k contradictions)."""
    bins: list[list[str]] = []
    by_fill: list[list[int]] = [[] for _ in range(max_size + 1)]
    for piece in sorted(pieces, key=lambda p: (-len(p), p)):
        size = len(piece)
        tops = [heap[0] for heap in by_fill[: max(0, max_size - size + 1)] if heap]
        if tops:
            target = min(tops)
            heapq.heappop(by_fill[len(bins[target])])
            bins[target].extend(piece)
        else:
            target = len(bins)
            bins.append(list(piece))
        if len(bins[target]) <= max_size:
            heapq.heappush(by_fill[len(bins[target])], target)
    return [sorted(b) for b in bins]


def assign_ids(groups: list[list[str]], previous: Mapping[str, int]) -> list[int | None]:
    """Each old id goes to the group holding most of its contradictions (ties: the larger
    group, then the first); a group gets at most one id."""
    candidates = []
    for index, keys in enumerate(groups):
        counts = Counter(previous[key] for key in keys if key in previous)
        candidates += [(-count, -len(keys), index, old) for old, count in counts.items()]
    ids: list[int | None] = [None] * len(groups)
    taken: set[int] = set()
    for _, _, index, old in sorted(candidates):
        if ids[index] is None and old not in taken:
            ids[index] = old
            taken.add(old)
    return ids


def _title(found: list[Contradiction]) -> str:
    """The most severe contradiction in words, and how many more the thread holds."""
    lead = min(found, key=lambda c: (-c.severity, c.key))
    more = len(found) - 1
    if not more:
        return lead.summary
    return f"{lead.summary} (and {more} related disagreement{'s' if more > 1 else ''})"
