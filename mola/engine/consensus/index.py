"""ConsensusIndex: every teaching of a space, packed so that contradictions involving one
changed teaching are found with array operations rather than a loop over all teachings.

How a caller keeps its contradictions current (this is what makes incremental equal
from-scratch, and what ``refreshed`` does)::

    affected = index.replace(item)          # or index.remove(ref), index.set_recent_points(rows)
    drop every stored contradiction that involves a teaching in ``affected``
    store index.check(ref) for every ref in ``affected`` (upsert by ``key``)

``affected`` is usually just the changed teaching. An example also affects the rules whose
region holds it (their evidence and severities move), and every example when it moved the
spread a number feature's tolerance is measured against; new recent points affect every rule.
After any sequence of changes handled that way, the stored set equals ``detect_all()``.

What the index knows of each rule's region (its facts) lives in ``rule_facts.py``; turning a
pair into a ``Contradiction`` in ``findings.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from mola.engine import collector
from mola.engine.consensus import case_findings, findings
from mola.engine.consensus.example_store import ExampleStore
from mola.engine.consensus.geometry import Parts, RegionReader, hull
from mola.engine.consensus.items import (
    ConceptItem,
    Contradiction,
    ExampleItem,
    Item,
    Ref,
    RuleItem,
    teaching_name,
    teaching_words,
)
from mola.engine.consensus.packing import BoxStore, RowsByValue
from mola.engine.consensus.rule_facts import RuleFactsMixin, RuleState
from mola.engine.language.regions import schema_domains
from mola.engine.schema import Schema
from mola.engine.table import Table, table_from_rows


class ConsensusIndex(RuleFactsMixin):
    """The teachings of one space (schema fixed) and the contradictions among them.

    ``tolerance`` is the fraction of a number feature's range within which two examples count
    as the same case. ``recent_points`` are recent prediction inputs (valid rows); an overlap
    many of them fall into matters more.
    """

    def __init__(
        self,
        schema: Schema,
        *,
        tolerance: float = 0.02,
        recent_points: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.schema = schema
        self.domains = schema_domains(schema)
        self.reader = RegionReader(schema, self.domains)
        self.tolerance = tolerance
        self.label_names: list[str] = list(schema.label_names)
        self._label_code = {name: code for code, name in enumerate(self.label_names)}
        self.boxes = BoxStore(schema)
        self.has_text = self.boxes.has_text
        self.rules: dict[int, RuleState] = {}
        self.examples = ExampleStore(schema, tolerance)
        self._example_words: dict[int, tuple[str, dict[str, Any]]] = {}
        self.concepts: dict[int, ConceptItem] = {}
        self._concept_hulls: dict[int, tuple[Any, ...]] = {}
        self._concepts_by_hull: dict[tuple[Any, ...], set[int]] = {}
        self.recent: Table = table_from_rows(schema, list(recent_points))
        self._recent_version = 0
        self._rows: tuple[tuple[int, int], RowsByValue, RowsByValue] | None = None
        self.severities: dict[tuple[Any, ...], float] = {}  # findings' memo
        # ``findings.rule_pair``'s memo by rule ids (smaller first): the overlap's geometry
        # for the two rule states, and the last contradiction with the inputs it came from.
        self.pairs: dict[tuple[int, int], Any] = {}
        self._label_bits: tuple[int, dict[int, int]] | None = None
        self._serial = 0
        self._slot_ints: list[int] = []  # see ``_slot_set``

    # --- changes -------------------------------------------------------------------------

    def replace(self, item: Item) -> frozenset[Ref]:
        """Add ``item`` or replace the teaching with its ref; the refs to re-check."""
        affected = set(self.remove(item.ref))
        if isinstance(item, RuleItem):
            label = self.label_code(item.label)
            self.rules[item.id] = RuleState(item, item.ref, label, hull(item.region))
            self.boxes.add(item.id, label, item.region.boxes)
        elif isinstance(item, ExampleItem):
            before = self._facts_version()
            slot = self.examples.add(item, self.label_code(item.label))
            holders = self._rules_holding(slot)
            self._facts_moved(before, slot, {ref.id for ref in holders}, entered=True)
            affected |= holders
            affected |= self._all_examples_if_spreads_moved()
        else:
            self.concepts[item.id] = item
            signature = self._concept_hulls[item.id] = _signature(item)
            self._concepts_by_hull.setdefault(signature, set()).add(item.id)
        return frozenset(affected | {item.ref})

    def build(self, items: Iterable[Item]) -> None:
        """Add the teachings of a fresh index: ``replace`` each, without working out what an
        example affects (nothing is checked yet, and no rule knows its facts: they are
        found for every rule at once when first asked). At M that bookkeeping was ~2 of a
        build's ~2.6 s: each example's holders looked up, every rule visited, every
        example's spread measured again."""
        # Adding teachings never works facts out, so this holds for the whole loop.
        unknown = all(rule.facts is None for rule in self.rules.values())
        for item in items:
            if unknown and isinstance(item, ExampleItem) and item.id not in self.examples.items:
                self.examples.add(item, self.label_code(item.label))
            else:
                self.replace(item)
        self.examples.spreads_changed()  # measured once, for all of them

    def remove(self, ref: Ref) -> frozenset[Ref]:
        """Forget a teaching (absent ones are ignored); the refs to re-check."""
        affected: set[Ref] = set()
        if ref.type == "rule" and ref.id in self.rules:
            del self.rules[ref.id]
            self.boxes.remove(ref.id)
        elif ref.type == "example" and ref.id in self.examples.items:
            slot = self.examples.slot_of[ref.id]
            holders = self._rules_holding(slot)
            affected |= holders
            before = self._facts_version()
            leaving = self._slot_facts(slot)
            self.examples.remove(ref.id)
            self._facts_moved(before, slot, {r.id for r in holders}, entered=False, was=leaving)
            self._example_words.pop(ref.id, None)
            affected |= self._all_examples_if_spreads_moved()
        elif ref.type == "concept" and ref.id in self.concepts:
            del self.concepts[ref.id]
            self._concepts_by_hull[self._concept_hulls.pop(ref.id)].discard(ref.id)
        else:
            return frozenset()
        return frozenset(affected | {ref})

    def add_rule(self, rule: RuleItem) -> frozenset[Ref]:
        return self.replace(rule)

    def add_example(self, example: ExampleItem) -> frozenset[Ref]:
        return self.replace(example)

    def add_concept(self, concept: ConceptItem) -> frozenset[Ref]:
        return self.replace(concept)

    def remove_rule(self, rule_id: int) -> frozenset[Ref]:
        return self.remove(Ref("rule", rule_id))

    def remove_example(self, example_id: int) -> frozenset[Ref]:
        return self.remove(Ref("example", example_id))

    def remove_concept(self, concept_id: int) -> frozenset[Ref]:
        return self.remove(Ref("concept", concept_id))

    def set_recent_points(self, rows: Sequence[Mapping[str, Any]]) -> frozenset[Ref]:
        """Replace the recent prediction inputs; every rule's severities may move."""
        self.recent = table_from_rows(self.schema, list(rows))
        self._recent_version += 1
        return frozenset(state.item.ref for state in self.rules.values())

    # --- detection -----------------------------------------------------------------------

    def check(
        self,
        ref: Ref,
        *,
        rule_examples: bool = True,
        partners: Collection[int] | None = None,
    ) -> list[Contradiction]:
        """Every contradiction involving the teaching ``ref`` (none when it is unknown),
        most severe first. ``rule_examples=False`` leaves out a rule's ``rule_example``
        contradictions (a caller that lists only some asks ``examples_against``); for a
        rule, ``partners`` keeps only its pairs with those rules (``shown_refreshed``)."""
        found: list[Contradiction] = []
        if ref.type == "rule" and ref.id in self.rules:
            rule = self.rules[ref.id]
            meeting: set[int] = set()
            for column in self.boxes.columns_of.get(ref.id, ()):
                hits = self.boxes.meeting(column, slice(0, self.boxes.size))
                meeting.update(self.boxes.owner[hits].tolist())
            if partners is not None:
                meeting.intersection_update(partners)
            found += [findings.rule_pair(self, rule, self.rules[other]) for other in meeting]
            if rule_examples:
                found += [
                    findings.rule_example(self, rule, self.examples.items[example_id])
                    for example_id in self._examples_against(rule)
                ]
        elif ref.type == "example" and ref.id in self.examples.items:
            example = self.examples.items[ref.id]
            slot = self.examples.slot_of[ref.id]
            code = self.examples.label[slot]
            for rule_ref in self._rules_holding(slot):
                rule = self.rules[rule_ref.id]
                if rule.label != code:
                    found.append(findings.rule_example(self, rule, example))
            found += [
                case_findings.example_pair(self, example, self._example_at(other))
                for other in self.examples.conflicting(slot)
            ]
        elif ref.type == "concept" and ref.id in self.concepts:
            concept = self.concepts[ref.id]
            found += [
                case_findings.concept_pair(self, concept, self.concepts[other])
                for other in self._same_concepts(concept)
            ]
        return _ranked(found)

    def detect_all(self, *, rule_examples: bool = True) -> list[Contradiction]:
        """Every contradiction among all teachings, from scratch, most severe first
        (without the ``rule_example`` ones when ``rule_examples`` is False)."""
        # Tens of thousands of contradictions, each a handful of new objects and no cycles:
        # the cycle collector would only walk the growing heap again and again (about a
        # tenth of the time), so it waits until the list is built.
        with collector.paused():
            return self._detect_all(rule_examples)

    def _detect_all(self, rule_examples: bool) -> list[Contradiction]:
        boxes, found = self.boxes, []
        self._all_facts()
        pairs: set[tuple[int, int]] = set()
        for column, hits in boxes.meeting_later():
            owner = int(boxes.owner[column])
            pairs.update((min(owner, o), max(owner, o)) for o in boxes.owner[hits].tolist())
        found += [findings.rule_pair(self, self.rules[a], self.rules[b]) for a, b in pairs]
        for rule in self.rules.values() if rule_examples else ():
            found += [
                findings.rule_example(self, rule, self.examples.items[example_id])
                for example_id in self._examples_against(rule)
            ]
        for example_id, slot in self.examples.slot_of.items():
            example = self.examples.items[example_id]
            found += [
                case_findings.example_pair(self, example, self._example_at(other))
                for other in self.examples.conflicting(slot, after=slot)
            ]
        for concept in self.concepts.values():
            found += [
                case_findings.concept_pair(self, concept, self.concepts[other])
                for other in self._same_concepts(concept)
                if other > concept.id
            ]
        return _ranked(found)

    def examples_against(self, rule_id: int) -> list[int]:
        """Ids of the examples inside the rule's region with another label, in order."""
        return self._examples_against(self.rules[rule_id])

    def examples_against_groups(
        self, rule_id: int, first: int
    ) -> list[tuple[int, bool, list[int], int]]:
        """``examples_against`` grouped by label code and whether the example refutes the
        rule: per group the label code, that flag, its first ``first`` ids in order and how
        many it holds; groups in the order of their first id. Array steps, not a Python
        loop over the ids: a suspect rule at M holds up to thousands, and its groups are
        built again whenever an example enters or leaves its region."""
        rule = self.rules[rule_id]
        held = self.facts(rule).examples
        slots = np.fromiter(held, dtype=np.int64, count=len(held))
        codes = self.examples.label[slots]
        slots, codes = slots[codes != rule.label], codes[codes != rule.label]
        if not len(slots):
            return []
        ids = self.examples.ids[slots]
        group = 2 * codes.astype(np.int64) + (self.examples.refutes[slots] == rule_id)
        order = np.lexsort((ids, group))
        group, ids = group[order], ids[order]
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]).tolist()
        ends = [*starts[1:], len(group)]
        groups = [
            (
                int(group[start]) // 2,
                bool(group[start] % 2),
                ids[start : min(end, start + first)].tolist(),
                end - start,
            )
            for start, end in zip(starts, ends, strict=True)
        ]
        return sorted(groups, key=lambda g: g[2][0])

    def rule_example(self, rule_id: int, example_id: int) -> Contradiction:
        """The ``rule_example`` contradiction of a rule and one of its ``examples_against``."""
        return findings.rule_example(self, self.rules[rule_id], self.examples.items[example_id])

    # --- cached facts, used by findings ---------------------------------------------------

    def label_code(self, name: str) -> int:
        # Labels the schema no longer lists still get a code: the rule must stay comparable.
        if name not in self._label_code:
            self._label_code[name] = len(self.label_names)
            self.label_names.append(name)
        return self._label_code[name]

    def names(self, rule: RuleState) -> tuple[str, str, str]:
        """``teaching_name`` and ``teaching_words`` (first, later) of the rule, once."""
        if rule.names is None:
            item = rule.item
            rule.names = (
                teaching_name(item),
                teaching_words(item, first=True),
                teaching_words(item, first=False),
            )
        return rule.names

    def parts(self, rule: RuleState) -> Parts | None:
        """The rule's one box read once (None when its region has several boxes)."""
        if rule.parts is None:
            rule.parts = self.reader.parts(rule.item.region) or False
        return rule.parts or None

    def example_words(self, example: ExampleItem) -> tuple[str, dict[str, Any]]:
        """The example's point in words and as a witness (schema order), computed once: an
        example inside many rules appears in as many contradictions."""
        if example.id not in self._example_words:
            point = {name: example.point[name] for name in self.schema.feature_names}
            self._example_words[example.id] = (self.reader.point_words(point), point)
        return self._example_words[example.id]

    # --- helpers -------------------------------------------------------------------------

    def _examples_against(self, rule: RuleState) -> list[int]:
        held = self.facts(rule).examples
        slots = np.fromiter(held, dtype=np.int64, count=len(held))
        # One array step, not a NumPy scalar per slot (a rule holds up to thousands).
        slots = slots[self.examples.label[slots] != rule.label]
        return sorted(self.examples.ids[slots].tolist())

    def _example_at(self, slot: int) -> ExampleItem:
        return self.examples.item_at(slot)

    def _rules_holding(self, slot: int) -> set[Ref]:
        columns = self.boxes.containing(self.examples.point_codes(slot))
        return {Ref("rule", int(owner)) for owner in np.unique(self.boxes.owner[columns])}

    def _all_examples_if_spreads_moved(self) -> set[Ref]:
        if not self.examples.spreads_changed():
            return set()
        return {Ref("example", example_id) for example_id in self.examples.items}

    def _same_concepts(self, concept: ConceptItem) -> list[int]:
        same_hull = self._concepts_by_hull[self._concept_hulls[concept.id]]
        return sorted(
            other
            for other in same_hull
            if other != concept.id and self.concepts[other].region.equivalent(concept.region)
        )


def _signature(concept: ConceptItem) -> tuple[Any, ...]:
    """Equal for concepts with the same points (the exact test follows on a match)."""
    return (
        concept.region.is_empty(),
        tuple(sorted(hull(concept.region).items(), key=lambda kv: kv[0])),
    )


def _ranked(found: Iterable[Contradiction]) -> list[Contradiction]:
    return sorted(found, key=lambda c: (-c.severity, c.key))


def refreshed(
    current: Mapping[str, Contradiction], index: ConsensusIndex, affected: Iterable[Ref]
) -> dict[str, Contradiction]:
    """The caller's bookkeeping after a change: ``current`` (by key) with every contradiction
    involving an affected teaching dropped and those teachings checked again."""
    affected = set(affected)
    result = {key: found for key, found in current.items() if affected.isdisjoint(found.teachings)}
    for ref in sorted(affected):
        result.update((found.key, found) for found in index.check(ref))
    return result
