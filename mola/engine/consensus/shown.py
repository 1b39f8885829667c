"""Which of the contradictions the core finds are stored: all of them, except that one rule's
disagreeing examples are shown a few at a time.

Every ``rule_example`` of one rule, one example label and one ``expected`` flag says the same
thing: same severity, same evidence (counts over the rule's whole region), same notes apart
from the example's own sentence. A rule that 1,370 examples of a label disagree with (a
medium space has such rules) would otherwise store, notify and list 1,370 rows a moderator
reads as one. So only the first ``RULE_EXAMPLES_SHOWN`` of such a group are stored (lowest
example ids: deterministic, and stable as new examples arrive), and their note says how many
more disagree.

The detection core stays exact; this is a pure function of what it found (``shown``), and
``shown_refreshed`` keeps it current after a change exactly as ``refreshed`` does for the
whole set, so an incremental check still stores what a from-scratch recompute stores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace

from mola.engine.consensus import RULE_EXAMPLE, ConsensusIndex, Contradiction, Ref

RULE_EXAMPLES_SHOWN = 5

Group = tuple[int, str, bool]  # rule id, example label, expected


def _parts(index: ConsensusIndex, found: Contradiction) -> tuple[Group, int]:
    """The group of a ``rule_example`` and its example's id."""
    example, rule = found.teachings  # sorted refs: "example" < "rule"
    return (rule.id, index.examples.items[example.id].label, found.expected), example.id


def _capped(
    group: Group, members: list[tuple[int, Contradiction]], total: int
) -> list[Contradiction]:
    """The first ``RULE_EXAMPLES_SHOWN`` of a group of ``total`` by example id (``members``
    holds at least those), saying how many more there are."""
    members.sort(key=lambda member: member[0])
    more = total - RULE_EXAMPLES_SHOWN
    if more <= 0:
        return [found for _, found in members]
    rule_id, label, _ = group
    examples = "example" if more == 1 else "examples"
    suffix = (
        f" {more} more {examples} labelled {label} lie inside rule #{rule_id}'s region "
        f"(only the first {RULE_EXAMPLES_SHOWN} are listed)."
    )
    return [replace(found, note=found.note + suffix) for _, found in members[:RULE_EXAMPLES_SHOWN]]


def _rule_examples_shown(index: ConsensusIndex, rule_id: int) -> list[Contradiction]:
    """The shown ``rule_example`` contradictions of one rule, building only those (a rule
    may hold a thousand disagreeing examples)."""
    groups: dict[Group, list[int]] = defaultdict(list)
    for example_id in index.examples_against(rule_id):
        example = index.examples.items[example_id]
        groups[(rule_id, example.label, example.refutes == rule_id)].append(example_id)
    result: list[Contradiction] = []
    for group, ids in groups.items():
        members = [(i, index.rule_example(rule_id, i)) for i in ids[:RULE_EXAMPLES_SHOWN]]
        result += _capped(group, members, len(ids))
    return result


def shown(index: ConsensusIndex, found: Iterable[Contradiction]) -> dict[str, Contradiction]:
    """What is stored of ``found`` (contradictions of ``index``'s teachings), by key."""
    result: dict[str, Contradiction] = {}
    groups: dict[Group, list[tuple[int, Contradiction]]] = defaultdict(list)
    for item in found:
        if item.kind == RULE_EXAMPLE:
            group, example_id = _parts(index, item)
            groups[group].append((example_id, item))
        else:
            result[item.key] = item
    for group, members in groups.items():
        result.update((item.key, item) for item in _capped(group, members, len(members)))
    return result


def shown_all(index: ConsensusIndex) -> dict[str, Contradiction]:
    """``shown(index, index.detect_all())``, without building the contradictions that are
    not shown (at M: 20k of 685k ``rule_example``)."""
    result = {found.key: found for found in index.detect_all(rule_examples=False)}
    for rule_id in index.rules:
        result.update((found.key, found) for found in _rule_examples_shown(index, rule_id))
    return result


class Shown(dict[str, Contradiction]):
    """What ``shown_refreshed`` returns: the shown set by key, and how it differs from the
    set it was refreshed from, so that a caller who kept that set revisits only what moved
    (at M one example edit changes ~10k of ~112k keys, and each full pass over the rest cost
    a tenth of a second or more).

    ``since``: the mapping it was refreshed from; ``changed``: the keys added, removed, or
    holding another object than in ``since``. ``by_teaching`` (teaching → the keys holding
    it) is handed on from one refresh to the next: the older set gives it up."""

    since: Mapping[str, Contradiction] | None = None
    changed: frozenset[str] = frozenset()
    by_teaching: dict[Ref, set[str]] | None = None


def _keys_by_teaching(current: Mapping[str, Contradiction]) -> dict[Ref, set[str]]:
    """``current``'s teaching → keys map: handed on by a ``Shown``, else built once."""
    by_teaching = getattr(current, "by_teaching", None)
    if by_teaching is not None:
        current.by_teaching = None  # type: ignore[union-attr]  # handed on: no longer its
        return by_teaching
    by_teaching = defaultdict(set)
    for key, found in current.items():
        for ref in found.teachings:
            by_teaching[ref].add(key)
    return by_teaching


def shown_refreshed(
    current: Mapping[str, Contradiction], index: ConsensusIndex, affected: Iterable[Ref]
) -> Shown:
    """``shown`` after a change, from the shown set before it (``current``) and the refs the
    index said to re-check (``mola.engine.consensus.refreshed``, bounded).

    A group's members change only when its rule is affected (an example that enters, leaves
    or relabels inside a rule's region affects the rule), and then the rule's groups are
    built again. A ``rule_example`` found through an affected example whose rule is not
    affected is the one it was: shown before if and only if shown now, same words.
    """
    affected = set(affected)
    by_teaching = _keys_by_teaching(current)
    dropped: set[str] = set()
    for ref in affected:
        dropped.update(by_teaching.get(ref, ()))
    result = Shown(current)
    for key in dropped:
        del result[key]
    touched: set[str] = set()
    rechecked_rules = {ref.id for ref in affected if ref.type == "rule" and ref.id in index.rules}
    for ref in sorted(affected):
        for found in index.check(ref, rule_examples=False):
            if found.kind != RULE_EXAMPLE:
                result[found.key] = found
                touched.add(found.key)
            elif _parts(index, found)[0][0] not in rechecked_rules and found.key in current:
                result[found.key] = current[found.key]
                touched.add(found.key)
    for rule_id in sorted(rechecked_rules):
        for found in _rule_examples_shown(index, rule_id):
            result[found.key] = found
            touched.add(found.key)
    changed = frozenset(k for k in dropped | touched if current.get(k) is not result.get(k))
    for key in changed:
        if key not in result:
            for ref in current[key].teachings:
                by_teaching[ref].discard(key)
                if not by_teaching[ref]:
                    del by_teaching[ref]
        elif key not in current:
            for ref in result[key].teachings:
                by_teaching[ref].add(key)
    if isinstance(current, Shown):
        current.since = None  # no chain of older sets kept alive
    result.since, result.changed, result.by_teaching = current, changed, by_teaching
    return result
