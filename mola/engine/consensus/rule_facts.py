"""What the consensus index knows about each rule's region, kept current as examples come
and go: ``RuleFacts`` (the example slots and recent points inside, counts per label, the
rule's standing) and ``RuleState`` (a rule with what is cached about it).

``RuleFactsMixin`` is the part of ``ConsensusIndex`` that computes facts (all rules at once
when many are stale) and patches them slot by slot after an example edit, so that one edit
does not send every rule back to a scan of all examples; ``slots_moved`` tells
``findings.rule_pair`` which slots entered or left a rule since a pair was built.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mola.engine.consensus.geometry import Hull, Parts
from mola.engine.consensus.items import Ref, RuleItem
from mola.engine.consensus.packing import BoxStore, RowsByValue
from mola.engine.consensus.severity import Standing

if TYPE_CHECKING:
    from mola.engine.consensus.example_store import ExampleStore
    from mola.engine.table import Table

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
    # The rule's ``counted.RuleCounts`` and the facts they were read from.
    counted: tuple[RuleFacts, Any] | None = field(default=None, repr=False)
    # The latest one-slot changes of the facts: (serial before, serial after, slot).
    moves: list[tuple[int, int, int]] = field(default_factory=list, repr=False)


class RuleFactsMixin:
    """Facts of the rules of a ``ConsensusIndex`` (which provides the attributes below)."""

    rules: dict[int, RuleState]
    examples: ExampleStore
    boxes: BoxStore
    recent: Table
    has_text: bool
    _recent_version: int
    _rows: tuple[tuple[int, int], RowsByValue, RowsByValue] | None
    _label_bits: tuple[int, dict[int, int]] | None
    _slot_ints: list[int]
    _serial: int

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
            self._slot_set(slots.tolist()),
            counts,
            frozenset(recent.tolist()),
            Standing(total, total - counts[rule.label]),
            _bits(slots),
            _bits(recent),
            self._serial,
        )

    def _slot_set(self, slots: list[int]) -> frozenset[int]:
        """``frozenset(slots)`` made of one shared int object per slot: at M the rules hold
        ~800k slots, and each rule's ``tolist`` made ints of its own (~23 MB)."""
        ints = self._slot_ints
        if slots and max(slots) >= len(ints):
            ints.extend(range(len(ints), max(slots) + 1))
        return frozenset([ints[slot] for slot in slots])

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


def _bits(positions: np.ndarray) -> int:
    """The positions as the set bits of a Python int."""
    if not len(positions):
        return 0
    mask = np.zeros(int(positions.max()) + 1, bool)
    mask[positions] = True
    return int.from_bytes(np.packbits(mask, bitorder="little").tobytes(), "little")
