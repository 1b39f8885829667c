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
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mola.engine.consensus import findings
from mola.engine.consensus.example_store import ExampleStore
from mola.engine.consensus.geometry import Hull, Parts, RegionReader, hull
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
from mola.engine.consensus.severity import Standing
from mola.engine.language.regions import schema_domains
from mola.engine.schema import Schema
from mola.engine.table import Table, table_from_rows

_MOVES_KEPT = 8  # one-slot changes remembered per rule (a pair older than that is rebuilt)


@dataclass(frozen=True)
class RuleFacts:
    """What lies in a rule's region: example slots, training examples per label code, recent
    points. Sets, not masks: a rule holds a handful of examples, so the evidence of a pair
    of rules is a small set intersection rather than arrays over every example."""

    version: tuple[int, int]
    examples: frozenset[int]
    counts: Counter[int]
    recent: frozenset[int]
    standing: Standing
    # The same slots and recent rows as bits of a Python int: a pair's evidence is then an
    # ``&`` and a popcount per label instead of a loop over thousands of shared slots.
    bits: int = 0
    recent_bits: int = 0
    # Bumped whenever the content changes (not the version alone); with ``RuleState.moves``
    # it tells ``findings.rule_pair`` which slots entered or left since a pair was built.
    serial: int = 0


@dataclass
class RuleState:
    """A rule and what the index caches about it (facts are tied to a data version)."""

    item: RuleItem
    ref: Ref
    label: int
    hull: Hull
    facts: RuleFacts | None = field(default=None, repr=False)
    # A one-box region's constraints read once (words, picks), for ``RegionReader.pair``;
    # None until first asked, False for a region of several boxes.
    parts: Parts | bool | None = field(default=None, repr=False)
    # How notes and summaries name the rule: "rule #12", and its words first and later in
    # a sentence ("Rule #12 (anna) says toss in front").
    names: tuple[str, str, str] | None = field(default=None, repr=False)
    # ``rule_example`` verdicts per (example label code, expected), valid for these facts.
    verdicts: tuple[RuleFacts, dict[tuple[int, bool], Any]] | None = field(default=None, repr=False)
    # The latest one-slot changes of the facts: (serial before, serial after, slot).
    moves: list[tuple[int, int, int]] = field(default_factory=list, repr=False)


class ConsensusIndex:
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

    def check(self, ref: Ref, *, rule_examples: bool = True) -> list[Contradiction]:
        """Every contradiction involving the teaching ``ref`` (none when it is unknown),
        most severe first. ``rule_examples=False`` leaves out a rule's ``rule_example``
        contradictions (a caller that lists only some asks ``examples_against``)."""
        found: list[Contradiction] = []
        if ref.type == "rule" and ref.id in self.rules:
            rule = self.rules[ref.id]
            partners: set[int] = set()
            for column in self.boxes.columns_of.get(ref.id, ()):
                hits = self.boxes.meeting(column, slice(0, self.boxes.size))
                partners.update(self.boxes.owner[hits].tolist())
            found += [findings.rule_pair(self, rule, self.rules[other]) for other in partners]
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
                findings.example_pair(self, example, self._example_at(other))
                for other in self.examples.conflicting(slot)
            ]
        elif ref.type == "concept" and ref.id in self.concepts:
            concept = self.concepts[ref.id]
            found += [
                findings.concept_pair(self, concept, self.concepts[other])
                for other in self._same_concepts(concept)
            ]
        return _ranked(found)

    def detect_all(self, *, rule_examples: bool = True) -> list[Contradiction]:
        """Every contradiction among all teachings, from scratch, most severe first
        (without the ``rule_example`` ones when ``rule_examples`` is False)."""
        # Tens of thousands of contradictions, each a handful of new objects and no cycles:
        # the cycle collector would only walk the growing heap again and again (about a
        # tenth of the time), so it waits until the list is built.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._detect_all(rule_examples)
        finally:
            if collecting:
                gc.enable()

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
                findings.example_pair(self, example, self._example_at(other))
                for other in self.examples.conflicting(slot, after=slot)
            ]
        for concept in self.concepts.values():
            found += [
                findings.concept_pair(self, concept, self.concepts[other])
                for other in self._same_concepts(concept)
                if other > concept.id
            ]
        return _ranked(found)

    def examples_against(self, rule_id: int) -> list[int]:
        """Ids of the examples inside the rule's region with another label, in order."""
        return self._examples_against(self.rules[rule_id])

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

    def facts(self, rule: RuleState) -> RuleFacts:
        version = (self.examples.version, self._recent_version)
        if rule.facts is None or rule.facts.version != version:
            example_rows, recent_rows = self._grouped_rows()
            rule.facts = self._facts(
                rule,
                version,
                self.boxes.rows_inside(rule.item.id, example_rows),
                self.boxes.rows_inside(rule.item.id, recent_rows),
            )
        return rule.facts

    def _facts_version(self) -> tuple[int, int]:
        return (self.examples.version, self._recent_version)

    def _slot_facts(self, slot: int) -> tuple[int, bool]:
        """The label code and training flag of the example in ``slot``."""
        return int(self.examples.label[slot]), bool(self.examples.training[slot])

    def _facts_moved(
        self,
        before: tuple[int, int],
        slot: int,
        holders: set[int],
        *,
        entered: bool,
        was: tuple[int, bool] | None = None,
    ) -> None:
        """Bring the facts that were current at ``before`` to the new examples version after
        the example in ``slot`` entered or left: the rules in ``holders`` (whose region holds
        it) gain or lose the slot, every other rule's facts stay as they were. Without this
        one edit would send every rule back to a scan of all examples. Text features are
        tested row by row (``BoxStore``), so there the facts are simply recomputed."""
        version = self._facts_version()
        label, training = was if was is not None else self._slot_facts(slot)
        bit = 1 << slot
        for rule in self.rules.values():
            facts = rule.facts
            if facts is None or facts.version != before:
                continue
            if self.has_text:
                rule.facts = None
                continue
            inside = rule.item.id in holders if entered else slot in facts.examples
            if not inside:
                rule.facts = replace(facts, version=version)
            else:
                counts = Counter(facts.counts)
                if training:
                    counts[label] += 1 if entered else -1
                    counts = +counts  # no zero counts, as ``label_counts`` gives them
                total = sum(counts.values())
                self._serial += 1
                rule.facts = RuleFacts(
                    version,
                    facts.examples | {slot} if entered else facts.examples - {slot},
                    counts,
                    facts.recent,
                    Standing(total, total - counts[rule.label]),
                    facts.bits | bit if entered else facts.bits & ~bit,
                    facts.recent_bits,
                    self._serial,
                )
                rule.moves = [*rule.moves[-(_MOVES_KEPT - 1) :], (facts.serial, self._serial, slot)]
            if rule.verdicts is not None and rule.verdicts[0] is facts:
                same = rule.facts is not None and rule.facts.counts == facts.counts
                rule.verdicts = (rule.facts, rule.verdicts[1]) if same else None

    def _all_facts(self) -> None:
        """Bring every rule's facts up to date, many rules at a time when many are stale."""
        version = (self.examples.version, self._recent_version)
        stale = [r for r in self.rules.values() if r.facts is None or r.facts.version != version]
        if len(stale) < 64:
            for rule in stale:
                self.facts(rule)
            return
        example_rows, recent_rows = self._grouped_rows()
        examples = self.boxes.rows_inside_every_rule(example_rows)
        recent = self.boxes.rows_inside_every_rule(recent_rows)
        for rule in stale:
            rule_id = rule.item.id
            rule.facts = self._facts(rule, version, examples[rule_id], recent[rule_id])

    def _facts(
        self, rule: RuleState, version: tuple[int, int], slots: np.ndarray, recent: np.ndarray
    ) -> RuleFacts:
        slots = slots[self.examples.label[slots] >= 0]  # free slots hold junk
        counts = self.label_counts(slots.tolist())
        total = sum(counts.values())
        self._serial += 1
        rule.moves = []
        return RuleFacts(
            version,
            frozenset(slots.tolist()),
            counts,
            frozenset(recent.tolist()),
            Standing(total, total - counts[rule.label]),
            _bits(slots),
            _bits(recent),
            self._serial,
        )

    def _grouped_rows(self) -> tuple[RowsByValue, RowsByValue]:
        """The examples and recent points grouped by value, rebuilt when either changes."""
        version = (self.examples.version, self._recent_version)
        if self._rows is None or self._rows[0] != version:
            self._rows = (
                version,
                RowsByValue(self.boxes, self.examples.table()),
                RowsByValue(self.boxes, self.recent),
            )
        return self._rows[1], self._rows[2]

    def example_words(self, example: ExampleItem) -> tuple[str, dict[str, Any]]:
        """The example's point in words and as a witness (schema order), computed once: an
        example inside many rules appears in as many contradictions."""
        if example.id not in self._example_words:
            point = {name: example.point[name] for name in self.schema.feature_names}
            self._example_words[example.id] = (self.reader.point_words(point), point)
        return self._example_words[example.id]

    def label_counts(self, slots: Iterable[int]) -> Counter[int]:
        """Training examples per label code among ``slots``."""
        training, labels = self.examples.training, self.examples.label
        counts: Counter[int] = Counter()
        for slot in slots:
            if training[slot]:
                counts[int(labels[slot])] += 1
        return counts

    def slots_moved(self, rule: RuleState, since: int) -> list[int] | None:
        """The slots that entered or left the rule's facts since its facts had serial
        ``since`` (None when that is no longer known: the facts were rebuilt)."""
        slots: list[int] = []
        serial = self.facts(rule).serial
        moves = rule.moves
        while serial != since:
            if not moves or moves[-1][1] != serial:
                return None
            serial, slot = moves[-1][0], moves[-1][2]
            slots.append(slot)
            moves = moves[:-1]
        return slots

    def label_counts_of_bits(self, slots: int) -> Counter[int]:
        """``label_counts`` of the slots set in ``slots`` (a ``RuleFacts.bits`` value)."""
        version = self.examples.version
        if self._label_bits is None or self._label_bits[0] != version:
            size = self.examples.size
            labels = self.examples.label[:size]
            training = self.examples.training[:size]
            self._label_bits = (
                version,
                {
                    int(code): _bits(np.flatnonzero((labels == code) & training))
                    for code in np.unique(labels[training])
                },
            )
        counts: Counter[int] = Counter()
        for code, bits in self._label_bits[1].items():
            count = (slots & bits).bit_count()
            if count:
                counts[code] = count
        return counts

    # --- helpers -------------------------------------------------------------------------

    def _examples_against(self, rule: RuleState) -> list[int]:
        labels, ids = self.examples.label, self.examples.ids
        return sorted(
            int(ids[slot]) for slot in self.facts(rule).examples if labels[slot] != rule.label
        )

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


def _bits(positions: np.ndarray) -> int:
    """The positions as the set bits of a Python int."""
    if not len(positions):
        return 0
    mask = np.zeros(int(positions.max()) + 1, bool)
    mask[positions] = True
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")


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
    result = {
        key: found for key, found in current.items() if not affected.intersection(found.teachings)
    }
    for ref in sorted(affected):
        result.update((found.key, found) for found in index.check(ref))
    return result
