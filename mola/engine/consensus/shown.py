"""Which of the contradictions the core finds are stored: all of them, except that one rule's
disagreeing examples are shown a few at a time.

Every ``rule_example`` of one rule, one example label and one ``expected`` flag says the same
thing: same severity, same evidence (counts over the rule's whole region), same notes apart
from the example's own sentence (the counts are put in when shown: ``counted``). A rule that 1,370 examples of a label disagree with (a
medium space has such rules) would otherwise store, notify and list 1,370 rows a moderator
reads as one. So only the first ``RULE_EXAMPLES_SHOWN`` of such a group are stored (lowest
example ids: deterministic, and stable as new examples arrive), and their note, as shown,
says how many more disagree.

The detection core stays exact; this is a pure function of what it found (``shown``), and
``shown_refreshed`` keeps it current after a change exactly as ``refreshed`` does for the
whole set, so an incremental check still stores what a from-scratch recompute stores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from mola.engine.consensus import (
    RULE_EXAMPLE,
    RULE_EXCEPTION,
    RULE_OVERLAP,
    ConsensusIndex,
    Contradiction,
    Ref,
)
from mola.engine.consensus.counted import RULE_EXAMPLES_SHOWN
from mola.engine.consensus.findings import pair_at_standing

__all__ = ["RULE_EXAMPLES_SHOWN", "Shown", "shown", "shown_all", "shown_refreshed"]

Group = tuple[int, str, bool]  # rule id, example label, expected
_RULE_EXAMPLE_KEY = f"{RULE_EXAMPLE}:"  # how the key of each ``rule_example`` begins


def _parts(index: ConsensusIndex, found: Contradiction) -> tuple[Group, int]:
    """The group of a ``rule_example`` and its example's id."""
    example, rule = found.teachings  # sorted refs: "example" < "rule"
    return (rule.id, index.examples.items[example.id].label, found.expected), example.id


def _capped(members: list[tuple[int, Contradiction]]) -> list[Contradiction]:
    """The first ``RULE_EXAMPLES_SHOWN`` of a group by example id (``members`` holds at
    least those). How many more there are is said when shown, from the rule's counts
    (``counted.rendered``): it moves with every example of the label entering the region."""
    members.sort(key=lambda member: member[0])
    return [found for _, found in members[:RULE_EXAMPLES_SHOWN]]


def _rule_examples_shown(index: ConsensusIndex, rule_id: int) -> list[Contradiction]:
    """The shown ``rule_example`` contradictions of one rule, building only those (a rule
    may hold a thousand disagreeing examples)."""
    result: list[Contradiction] = []
    for _, _, ids, _ in index.examples_against_groups(rule_id, RULE_EXAMPLES_SHOWN):
        result += _capped([(i, index.rule_example(rule_id, i)) for i in ids])
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
    for members in groups.values():
        result.update((item.key, item) for item in _capped(members))
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


def _narrow_rules(
    current: Mapping[str, Contradiction],
    index: ConsensusIndex,
    by_teaching: Mapping[Ref, set[str]],
    rule_ids: set[int],
) -> set[int]:
    """The affected rules whose pairs with unaffected rules stand as they are in
    ``current``: the rule state is the one they were built with, and so is its rounded
    rank. Such a rule is affected because examples entered or left its region; a pair's
    evidence (the examples both rules hold) then moves only when the other rule is affected
    too, and its words and severity take nothing else of the rule's standing than the rank.
    Every pair of a rule in ``current`` was built at one rank of it (each refresh rebuilds
    all of them when the rank moves), so one of them tells. At M one example edit affects
    ~100 rules of ~270 partners each: the ~27k pairs visited were mostly unchanged."""
    narrow: set[int] = set()
    for rule_id in rule_ids:
        if rule_id not in index.rules:
            continue
        for key in by_teaching.get(Ref("rule", rule_id), ()):
            found = current[key]
            if found.kind in (RULE_OVERLAP, RULE_EXCEPTION):
                if pair_at_standing(index, found, rule_id):
                    narrow.add(rule_id)
                break
    return narrow


def _kept(current: Mapping[str, Contradiction], found: Contradiction) -> Contradiction:
    """The object ``current`` holds under ``found``'s key when it is equal to ``found``: a
    re-check builds every pair and shown example of the rules it visits again, and ~1.7k
    of ~7.5k per example edit at M come out as they were; handing back the old object
    tells the store and the threads they are unchanged (compared by identity), so neither
    digests nor regroups them."""
    before = current.get(found.key)
    if before is found or before is None or before.evidence != found.evidence:
        return found  # what moves most rebuilt rows: a cheap look before the whole compare
    return before if before == found else found


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
    rule_ids = {ref.id for ref in affected if ref.type == "rule"}
    narrow = _narrow_rules(current, index, by_teaching, rule_ids)
    dropped: set[str] = set()
    for ref in affected:
        keys = by_teaching.get(ref, ())
        if ref.type == "rule" and ref.id in narrow:
            # Its shown examples are built again. Its pairs with other affected rules are
            # found again, each (the two rule states are the ones they were, so each still
            # meets), or dropped with the other rule when that one is not narrow.
            keys = [key for key in keys if key.startswith(_RULE_EXAMPLE_KEY)]
        dropped.update(keys)
    result = Shown(current)
    for key in dropped:
        del result[key]
    touched: set[str] = set()
    rechecked_rules = {rule_id for rule_id in rule_ids if rule_id in index.rules}
    waiting = set(narrow)  # narrow rules whose pairs with each other are not built yet
    for ref in sorted(affected):
        partners = None
        if ref.type == "rule" and ref.id in narrow:
            waiting.discard(ref.id)
            partners = set(waiting)
        for found in index.check(ref, rule_examples=False, partners=partners):
            if found.kind != RULE_EXAMPLE:
                result[found.key] = _kept(current, found)
                touched.add(found.key)
            elif _parts(index, found)[0][0] not in rechecked_rules and found.key in current:
                result[found.key] = current[found.key]
                touched.add(found.key)
    for rule_id in sorted(rechecked_rules):
        for found in _rule_examples_shown(index, rule_id):
            result[found.key] = _kept(current, found)
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
