"""``ThreadGrouping``: ``group_into_threads`` kept current across consensus checks.

A check after one edit changes a handful of contradictions among ~100k open disputes (a space
imported in bulk), so regrouping everything each time (seconds) is waste. A component's
groups depend only on its own keys and their old threads (``component_groups``), and the
ids only on the groups that hold old keys, so this keeps each component with its groups and
built threads, and on each call:

- diffs the contradictions and ``previous`` against the last call;
- finds the components again only around added and removed keys (the old components of
  their teachings, merged or split as the keys say);
- regroups a component only when its keys or its keys' old threads changed, and rebuilds a
  thread only when one of its contradictions is a new object (its title or severity moved).

The result equals ``group_into_threads(contradictions, previous)`` (a property test checks
it on random edit sequences).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from mola.engine.consensus.items import Contradiction, Ref
from mola.engine.consensus.threads import (
    Shares,
    ThreadGroup,
    assign_ids,
    component_groups,
    components,
    thread,
    thread_order,
)

_LINK_LOOK_LIMIT = 20_000  # teachings a link check looks at before giving up


class _Links:
    """Union-find over teachings; ``None`` stands for the component's kept part."""

    def __init__(self) -> None:
        self.parent: dict[Ref | None, Ref | None] = {}

    def find(self, node: Ref | None) -> Ref | None:
        parent = self.parent
        root = node
        while parent.get(root, root) != root:
            root = parent[root]
        while node != root:
            parent[node], node = root, parent[node]
        return root

    def join(self, a: Ref | None, b: Ref | None) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_a] = root_b


def _same_in_thread(before: Contradiction | None, after: Contradiction) -> bool:
    """Whether a thread holding ``after`` reads as it did with ``before`` (a thread takes
    only its keys' teachings, summaries and severities): an example edit at M renews ~2-3k
    threads' leaders for their evidence alone, and building those threads again cost
    ~0.05 s per check."""
    return (
        before is not None
        and before.severity == after.severity
        and before.summary == after.summary
        and before.teachings == after.teachings
    )


@dataclass(eq=False)
class _Component:
    """One connected component: its sorted keys, smallest teaching, groups, and the threads
    built for them (by group position; None until built or after a change)."""

    keys: list[str]
    first: Ref
    groups: list[list[str]]
    old: dict[str, int]  # ``previous`` of its keys, as grouped
    threads: list[ThreadGroup | None] = field(default_factory=list)
    group_of: dict[str, int] = field(default_factory=dict)
    shares: Shares | None = None  # its split's memory, once it needed a split


class ThreadGrouping:
    """Threads of a changing set of contradictions (see the module docstring)."""

    # A component of at least this many keys that a change neither splits nor merges is
    # updated in place (a space imported in bulk has one of ~100k disputes: finding it
    # again and reassigning every key cost more than a second per check).
    in_place_from = 64

    def __init__(self, max_size: int = 8) -> None:
        self.max_size = max_size
        self._by_key: dict[str, Contradiction] = {}
        self._keys_at: dict[Ref, set[str]] = {}  # teaching -> the keys holding it
        self._previous: dict[str, int] = {}
        self._component_of: dict[str, _Component] = {}  # by key
        # Every component, by ``id``: ~90k keys at M, but far fewer components to order.
        self._components: dict[int, _Component] = {}
        self._component_at: dict[Ref, _Component] = {}  # by teaching

    def group(
        self,
        contradictions: Sequence[Contradiction] | Mapping[str, Contradiction],
        previous: Mapping[str, int] | None = None,
        changed: Iterable[str] | None = None,
    ) -> list[ThreadGroup]:
        """``group_into_threads(contradictions, previous, max_size=self.max_size)``.

        ``changed``: with a mapping, the keys whose contradiction may differ from the last
        call's (added, removed, or another object); the rest are not compared (at M ~90k
        keys, three passes over them on each check). None compares every key."""
        if changed is not None and isinstance(contradictions, Mapping):
            old_by_key, added, removed, renewed = self._take(contradictions, changed)
        else:
            by_key = (
                dict(contradictions)
                if isinstance(contradictions, Mapping)
                else {found.key: found for found in contradictions}
            )
            old_by_key, self._by_key = self._by_key, by_key
            added = [key for key in by_key if key not in old_by_key]
            removed = [key for key in old_by_key if key not in by_key]
            renewed = {key for key, found in by_key.items() if old_by_key.get(key) is not found}
        by_key = self._by_key
        previous = dict(previous or {})
        moved = {
            key
            for key in previous.keys() | self._previous.keys()
            if previous.get(key) != self._previous.get(key) and key in by_key
        }
        self._previous = previous
        self._regroup_around(added, removed, old_by_key)
        self._regroup_moved(moved)
        for key in renewed:
            if _same_in_thread(old_by_key.get(key), by_key[key]):
                continue
            component = self._component_of[key]
            if component.threads:
                component.threads[component.group_of[key]] = None
        return self._threads()

    def _regroup_moved(self, moved: set[str]) -> None:
        """Group again each component whose keys' old threads moved. Every component's
        ``old`` matched ``previous`` on its keys after the last call (or was set from the
        new one just now), so only the ``moved`` keys can differ: comparing those, once
        per component, replaces comparing each whole component per moved key (a big
        component holds ~90k keys at M; the first check after threads opened compared it
        ~240 times, ~5 s)."""
        previous = self._previous
        by_component: dict[int, tuple[_Component, list[str]]] = {}
        for key in moved:
            component = self._component_of[key]
            by_component.setdefault(id(component), (component, []))[1].append(key)
        for component, keys in by_component.values():
            old = component.old
            if any(old.get(key) != previous.get(key) for key in keys):
                self._set_groups(component)

    def _take(
        self, contradictions: Mapping[str, Contradiction], changed: Iterable[str]
    ) -> tuple[dict[str, Contradiction], list[str], list[str], set[str]]:
        """Bring the kept contradictions to ``contradictions`` at the ``changed`` keys; what
        they were there (a key absent was not there), and the added, removed and renewed
        keys, as ``group`` finds them by comparing every key."""
        by_key = self._by_key
        old_by_key: dict[str, Contradiction] = {}
        added: list[str] = []
        removed: list[str] = []
        renewed: set[str] = set()
        for key in sorted(set(changed)):
            old, new = by_key.get(key), contradictions.get(key)
            if old is new:
                continue
            if old is not None:
                old_by_key[key] = old
            if new is None:
                del by_key[key]
                removed.append(key)
                continue
            by_key[key] = new
            renewed.add(key)
            if old is None:
                added.append(key)
        return old_by_key, added, removed, renewed

    # --- components ----------------------------------------------------------------------

    def _regroup_around(
        self, added: list[str], removed: list[str], old_by_key: Mapping[str, Contradiction]
    ) -> None:
        """Find the components again where keys came or went, and group them."""
        keys_at = self._keys_at
        for key in removed:
            for ref in old_by_key[key].teachings:
                keys_at[ref].discard(key)
        for key in added:
            for ref in self._by_key[key].teachings:
                keys_at.setdefault(ref, set()).add(key)
        stale: dict[int, _Component] = {}
        for key in removed:
            component = self._component_of.pop(key)
            stale[id(component)] = component
        for key in added:
            for ref in self._by_key[key].teachings:
                component = self._component_at.get(ref)
                if component is not None:
                    stale[id(component)] = component
        if not added and not stale:
            return
        if len(stale) == 1:
            [component] = stale.values()
            if self._update_in_place(component, added, removed, old_by_key):
                return
        region = {key for component in stale.values() for key in component.keys}
        region.difference_update(removed)
        region.update(added)
        for component in stale.values():
            del self._components[id(component)]
            for key in component.keys:
                for ref in (old_by_key.get(key) or self._by_key[key]).teachings:
                    if self._component_at.get(ref) is component:
                        del self._component_at[ref]
        found = {key: self._by_key[key] for key in region}
        for keys in components(found):
            first = min(self._by_key[keys[0]].teachings)
            component = _Component(keys, first, [], {})
            self._components[id(component)] = component
            for key in keys:
                self._component_of[key] = component
                for ref in self._by_key[key].teachings:
                    self._component_at[ref] = component
                    first = min(first, ref)
            component.first = first
            self._set_groups(component)

    def _update_in_place(
        self,
        component: _Component,
        added: list[str],
        removed: list[str],
        old_by_key: Mapping[str, Contradiction],
    ) -> bool:
        """Apply a change to the one component it touches, when the component provably
        stays one: what is left of it once the removed keys are gone is still linked, and
        every added key links to that. False, with nothing changed, when that is not shown
        (the caller then finds the components again: the same result, slower)."""
        gone, fresh = set(removed), set(added)
        if len(component.keys) - len(gone) < max(1, self.in_place_from):
            return False
        keys_at, by_key = self._keys_at, self._by_key

        def held(ref: Ref) -> bool:  # by a key of the component that was there before
            return any(key not in fresh for key in keys_at.get(ref, ()))

        ends = {ref for key in gone for ref in old_by_key[key].teachings if held(ref)}
        if ends and not self._still_linked(ends, fresh):
            return False
        links = _Links()
        for key in added:
            first, *others = by_key[key].teachings
            for ref in others:
                links.join(first, ref)
            for ref in (first, *others):
                if self._component_at.get(ref) is component and held(ref):
                    links.join(ref, None)
        if any(
            links.find(ref) != links.find(None) for key in added for ref in by_key[key].teachings
        ):
            return False
        vanished = {
            ref for key in gone for ref in old_by_key[key].teachings if not keys_at.get(ref)
        }
        keys = [key for key in component.keys if key not in gone] if gone else component.keys
        for key in sorted(added):
            bisect.insort(keys, key)
            self._component_of[key] = component
            for ref in by_key[key].teachings:
                self._component_at[ref] = component
        for ref in vanished:
            if self._component_at.get(ref) is component:
                del self._component_at[ref]
        component.keys = keys
        if component.first in vanished:
            component.first = min(ref for key in keys for ref in by_key[key].teachings)
        else:
            component.first = min(
                [component.first, *(ref for key in added for ref in by_key[key].teachings)]
            )
        self._set_groups(component)
        return True

    def _still_linked(self, ends: set[Ref], fresh: set[str]) -> bool:
        """Whether the teachings ``ends`` are linked by the keys held before this change
        (not ``fresh`` ones), looking at no more than ``_LINK_LOOK_LIMIT`` teachings (False
        when it would look further)."""
        keys_at, by_key = self._keys_at, self._by_key
        start, *rest = ends
        missing, seen, frontier = set(rest), {start}, [start]
        while frontier and missing:
            if len(seen) > _LINK_LOOK_LIMIT:
                return False
            for key in keys_at.get(frontier.pop(), ()):
                if key in fresh:
                    continue
                for ref in by_key[key].teachings:
                    if ref not in seen:
                        seen.add(ref)
                        missing.discard(ref)
                        frontier.append(ref)
        return not missing

    def _old_of(self, keys: list[str]) -> dict[str, int]:
        previous = self._previous
        return {key: previous[key] for key in keys if key in previous}

    def _set_groups(self, component: _Component) -> None:
        component.old = self._old_of(component.keys)
        if component.shares is None and len(component.keys) > self.max_size:
            component.shares = Shares(self.max_size)
        built = {
            thread.contradiction_keys: thread for thread in component.threads if thread is not None
        }
        component.groups = component_groups(
            component.keys, self._by_key, component.old, self.max_size, component.shares
        )
        component.group_of = {key: i for i, keys in enumerate(component.groups) for key in keys}
        # A group with the same keys keeps its thread (rebuilt below when one of its keys is
        # a new object or its id moves): a split component keeps most of its groups.
        component.threads = [built.get(tuple(keys)) for keys in component.groups]

    # --- threads -------------------------------------------------------------------------

    def _threads(self) -> list[ThreadGroup]:
        ordered = sorted(self._components.values(), key=lambda c: c.first)
        groups = [group for component in ordered for group in component.groups]
        ids = self._ids(ordered, len(groups))
        result: list[ThreadGroup] = []
        position = 0
        for component in ordered:
            for index, keys in enumerate(component.groups):
                built = component.threads[index]
                wanted = ids[position]
                if built is None or built.thread_id != wanted:
                    built = component.threads[index] = thread(keys, wanted, self._by_key)
                result.append(built)
                position += 1
        return sorted(result, key=thread_order)

    def _ids(self, ordered: list[_Component], count: int) -> list[int | None]:
        """``assign_ids`` over every group, reading only the groups that hold old keys."""
        holders: list[list[str]] = []
        positions: list[int] = []
        position = 0
        for component in ordered:
            if component.old:
                for index in sorted({component.group_of[key] for key in component.old}):
                    holders.append(component.groups[index])
                    positions.append(position + index)
            position += len(component.groups)
        ids: list[int | None] = [None] * count
        # assign_ids ranks by group position on ties: positions keep the global order.
        ranked = assign_ids(holders, self._previous)
        for at, thread_id in zip(positions, ranked, strict=True):
            ids[at] = thread_id
        return ids
