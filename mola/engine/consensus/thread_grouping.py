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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mola.engine.consensus.items import Contradiction, Ref
from mola.engine.consensus.threads import (
    ThreadGroup,
    assign_ids,
    component_groups,
    components,
    thread,
    thread_order,
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


class ThreadGrouping:
    """Threads of a changing set of contradictions (see the module docstring)."""

    def __init__(self, max_size: int = 8) -> None:
        self.max_size = max_size
        self._by_key: dict[str, Contradiction] = {}
        self._previous: dict[str, int] = {}
        self._component_of: dict[str, _Component] = {}  # by key
        self._component_at: dict[Ref, _Component] = {}  # by teaching

    def group(
        self,
        contradictions: Sequence[Contradiction] | Mapping[str, Contradiction],
        previous: Mapping[str, int] | None = None,
    ) -> list[ThreadGroup]:
        """``group_into_threads(contradictions, previous, max_size=self.max_size)``."""
        by_key = (
            dict(contradictions)
            if isinstance(contradictions, Mapping)
            else {found.key: found for found in contradictions}
        )
        previous = dict(previous or {})
        old_by_key, self._by_key = self._by_key, by_key
        added = [key for key in by_key if key not in old_by_key]
        removed = [key for key in old_by_key if key not in by_key]
        renewed = {key for key, found in by_key.items() if old_by_key.get(key) is not found}
        moved = {
            key
            for key in previous.keys() | self._previous.keys()
            if previous.get(key) != self._previous.get(key) and key in by_key
        }
        self._previous = previous
        self._regroup_around(added, removed, old_by_key)
        for key in moved:  # old threads moved: the component's split may change
            component = self._component_of[key]
            if component.old != self._old_of(component.keys):
                self._set_groups(component)
        for key in renewed:
            component = self._component_of[key]
            if component.threads:
                component.threads[component.group_of[key]] = None
        return self._threads()

    # --- components ----------------------------------------------------------------------

    def _regroup_around(
        self, added: list[str], removed: list[str], old_by_key: Mapping[str, Contradiction]
    ) -> None:
        """Find the components again where keys came or went, and group them."""
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
        region = {key for component in stale.values() for key in component.keys}
        region.difference_update(removed)
        region.update(added)
        for component in stale.values():
            for key in component.keys:
                for ref in (old_by_key.get(key) or self._by_key[key]).teachings:
                    if self._component_at.get(ref) is component:
                        del self._component_at[ref]
        found = {key: self._by_key[key] for key in region}
        for keys in components(found):
            first = min(self._by_key[keys[0]].teachings)
            component = _Component(keys, first, [], {})
            for key in keys:
                self._component_of[key] = component
                for ref in self._by_key[key].teachings:
                    self._component_at[ref] = component
                    first = min(first, ref)
            component.first = first
            self._set_groups(component)

    def _old_of(self, keys: list[str]) -> dict[str, int]:
        previous = self._previous
        return {key: previous[key] for key in keys if key in previous}

    def _set_groups(self, component: _Component) -> None:
        component.old = self._old_of(component.keys)
        component.groups = component_groups(
            component.keys, self._by_key, component.old, self.max_size
        )
        component.group_of = {key: i for i, keys in enumerate(component.groups) for key in keys}
        component.threads = [None] * len(component.groups)

    # --- threads -------------------------------------------------------------------------

    def _threads(self) -> list[ThreadGroup]:
        ordered = sorted(
            {id(c): c for c in self._component_of.values()}.values(), key=lambda c: c.first
        )
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
