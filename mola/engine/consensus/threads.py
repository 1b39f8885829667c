"""Group contradictions into discussion threads a community can follow.

Teachings are nodes and contradictions edges; each connected component is one thread, so
everyone arguing about the same teachings meets in one place. A component with more than
``max_size`` contradictions is split along its communities (Louvain, fixed seed), and the
pieces are packed first-fit-decreasing into threads of at most ``max_size``.

How many threads: a component with m <= max_size contradictions gives one thread; a bigger
one gives at most floor(2 m / max_size) + 1, because first-fit leaves at most one thread half
full or less (two such threads would have been packed into one). So from scratch::

    threads <= components + 2 * contradictions / max_size

Identity: ``previous`` maps contradiction keys to the threads they were in. A thread keeps
its id while its contradictions stay; a new contradiction in the same component joins it
(in a split component: the old thread it shares most teachings with, while it has room);
when a component now holds contradictions of several old threads, the id that held most of
them wins and the others are left for the caller to close or merge.
"""

from __future__ import annotations

import gc
import heapq
import random
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
    seed: int = 0,
) -> list[ThreadGroup]:
    """Threads for ``contradictions`` (see the module docstring), most severe first."""
    collecting = gc.isenabled()
    gc.disable()  # many small objects and no cycles: see ConsensusIndex.detect_all
    try:
        return _grouped(contradictions, previous or {}, max_size, seed)
    finally:
        if collecting:
            gc.enable()


def _grouped(
    contradictions: Sequence[Contradiction],
    previous: Mapping[str, int],
    max_size: int,
    seed: int,
) -> list[ThreadGroup]:
    by_key = {found.key: found for found in contradictions}
    # Integer nodes in Ref order; components by union-find, each rooted at its smallest node,
    # numbered in the order of that node.
    # A contradiction's teachings as nodes, found once (a Ref hashes slowly).
    refs = sorted({r for c in by_key.values() for r in c.teachings})
    node_of = {ref: i for i, ref in enumerate(refs)}
    nodes = {key: tuple(node_of[ref] for ref in found.teachings) for key, found in by_key.items()}
    parent = list(range(len(refs)))
    first_node: dict[str, int] = {}
    for key, (first, *others) in nodes.items():
        first_node[key] = first
        for other in others:
            root_a, root_b = _root(parent, first), _root(parent, other)
            if root_a != root_b:
                parent[max(root_a, root_b)] = min(root_a, root_b)
    members: dict[int, list[str]] = defaultdict(list)
    for key in sorted(by_key):
        members[_root(parent, first_node[key])].append(key)
    groups: list[list[str]] = []
    for index in sorted(members):
        keys = members[index]
        if len(keys) <= max_size:
            groups.append(keys)
        else:
            groups += _split_component(keys, by_key, nodes, previous, max_size, seed)
    ids = _assign_ids(groups, previous)
    threads = [
        ThreadGroup(
            thread_id=thread_id,
            contradiction_keys=tuple(keys),
            # nodes number the refs in order
            teachings=tuple(refs[n] for n in sorted({n for key in keys for n in nodes[key]})),
            title=_title([by_key[key] for key in keys]),
            severity=max(by_key[key].severity for key in keys),
        )
        for keys, thread_id in zip(groups, ids, strict=True)
    ]
    return sorted(threads, key=lambda t: (-t.severity, t.contradiction_keys[0]))


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
    nodes: Mapping[str, tuple[int, ...]],
    previous: Mapping[str, int],
    max_size: int,
    seed: int,
) -> list[list[str]]:
    """Keep the old threads of a big component, let new contradictions join the one they
    touch most, and partition the rest afresh."""
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
    leftovers = []
    for key in fresh:
        mine = set(by_key[key].teachings)
        best = max(
            (
                (len(mine & teachings), -index)
                for index, teachings in enumerate(teachings_of)
                if len(kept[index]) < max_size and mine & teachings
            ),
            default=None,
        )
        if best is None:
            leftovers.append(key)
        else:
            kept[-best[1]].append(key)
            teachings_of[-best[1]] |= mine
    return kept + _partition(leftovers, nodes, max_size, seed)


def _partition(
    keys: list[str],
    nodes: Mapping[str, tuple[int, ...]],
    max_size: int,
    seed: int,
) -> list[list[str]]:
    """Split ``keys`` along Louvain communities, then pack the pieces into threads."""
    if len(keys) <= max_size:
        return [keys] if keys else []
    # The first Louvain level: the finest communities, which is what packing wants.
    community_of = _louvain_level(_graph(keys, nodes), seed)
    pieces: dict[int, list[str]] = defaultdict(list)
    for key in keys:  # a contradiction goes with its first teaching's community
        pieces[community_of[nodes[key][0]]].append(key)
    small: list[list[str]] = []
    for piece in pieces.values():
        if len(piece) <= max_size:
            small.append(piece)
        elif len(pieces) > 1:
            small += _partition(piece, nodes, max_size, seed)
        else:  # one dense community (a rule against many examples): cut it in order
            ordered = sorted(piece, key=lambda key: (nodes[key], key))  # teachings' order
            small += [ordered[i : i + max_size] for i in range(0, len(ordered), max_size)]
    return _pack(small, max_size)


Graph = dict[int, dict[int, int]]


def _graph(keys: list[str], nodes: Mapping[str, tuple[int, ...]]) -> Graph:
    """Teachings as nodes, contradictions as weighted edges; a contradiction among more than
    two teachings links them all through the first. Nodes and neighbours are kept in the
    order ``networkx.Graph`` would hold them, built edge by edge in ``keys`` order and then
    copied edge by edge, as ``louvain_partitions`` copies its input: Louvain's result
    depends on that order."""
    built: dict[int, dict[int, list[int]]] = {}
    for key in keys:
        first, *others = nodes[key]
        if first not in built:
            built[first] = {}
        for other in others or [first]:
            cell = built[first].get(other)
            if cell is not None:
                cell[0] += 1
                continue
            if other not in built:
                built[other] = {}
            built[first][other] = built[other][first] = [1]
    graph: Graph = {node: {} for node in built}
    seen: set[int] = set()
    for node, neighbours in built.items():
        for neighbour, cell in neighbours.items():
            if neighbour not in seen:
                graph[node][neighbour] = graph[neighbour][node] = cell[0]
        seen.add(node)
    return graph


def _louvain_level(graph: Graph, seed: int) -> dict[int, int]:
    """Each node's community after the first level of Louvain: the same moves, in the same
    order and with the same floating-point arithmetic, as the first partition
    ``networkx.community.louvain_partitions(graph, weight="weight", seed=seed)`` yields
    (networkx 3.6, undirected, resolution 1), without building networkx graphs."""
    nodes = list(graph)
    if not any(graph.values()):
        return {node: i for i, node in enumerate(nodes)}
    resolution = 1
    position = {node: i for i, node in enumerate(nodes)}
    node2com = list(range(len(nodes)))
    degrees = [sum(graph[node].values()) + graph[node].get(node, 0) for node in nodes]
    stot = list(degrees)
    m = sum(degrees) / 2
    nbrs = [
        [(position[v], weight) for v, weight in graph[node].items() if v != node] for node in nodes
    ]
    order = list(range(len(nodes)))
    random.Random(seed).shuffle(order)
    nb_moves = 1
    while nb_moves > 0:
        nb_moves = 0
        for u in order:
            best_mod = 0
            best_com = node2com[u]
            weights2com: defaultdict[int, float] = defaultdict(float)
            for nbr, wt in nbrs[u]:
                weights2com[node2com[nbr]] += wt
            degree = degrees[u]
            stot[best_com] -= degree
            remove_cost = -weights2com[best_com] / m + resolution * (stot[best_com] * degree) / (
                2 * m**2
            )
            for nbr_com, wt in weights2com.items():
                gain = remove_cost + wt / m - resolution * (stot[nbr_com] * degree) / (2 * m**2)
                if gain > best_mod:
                    best_mod = gain
                    best_com = nbr_com
            stot[best_com] += degree
            if best_com != node2com[u]:
                nb_moves += 1
                node2com[u] = best_com
    return {node: node2com[i] for i, node in enumerate(nodes)}


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


def _assign_ids(groups: list[list[str]], previous: Mapping[str, int]) -> list[int | None]:
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
