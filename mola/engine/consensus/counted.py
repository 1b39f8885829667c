"""What a rule contradiction's counts come from, and their words.

A pair of rules and a ``rule_example`` say how many training examples of each label lie in
their region: the pair in the examples both rules hold, a ``rule_example`` in its rule's
whole region (and how many more examples of its label are not listed). Those counts move
whenever an example enters or leaves a rule's region — at M each example edit moved them
on ~4-11k contradictions and nothing else of most of them. So the core's rule
contradictions carry their words without the counts (``Contradiction.note`` and an empty
``evidence``) and say what the counts come from (``Contradiction.counted``); ``rendered``
puts the counts back from each rule's ``RuleCounts``, which the index keeps per rule
(``rule_counts``) and the app stores per rule, so a shown contradiction reads what a full
one used to say, and an example edit rewrites ~100 rules' counts rather than the rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mola.engine.consensus.items import Contradiction
from mola.engine.consensus.severity import Standing, evidence_note, suspect_note

if TYPE_CHECKING:
    from mola.engine.consensus.index import ConsensusIndex

RULE_EXAMPLES_SHOWN = 5  # ``rule_example`` contradictions stored per rule, label and flag

# ``Contradiction.counted`` of a pair of rules; a ``rule_example``'s is (this, its label).
PAIR_COUNTS = ("pair",)
EXAMPLE_COUNTS = "example"


@dataclass(frozen=True)
class RuleCounts:
    """The examples in one rule's region that its contradictions count.

    ``examples``: training example ids per label name, the labels in the index's code order
    (``codes``: the code of each label named here; the rule's own label always is);
    ``against``: how many examples (training or not) of each label disagree with the rule,
    by (label, whether they were written as counterexamples to it)."""

    label: str
    codes: Mapping[str, int]
    examples: Mapping[str, frozenset[int]]
    against: Mapping[tuple[str, bool], int]

    def count(self, label: str) -> int:
        ids = self.examples.get(label)
        return len(ids) if ids is not None else 0

    def as_json(self) -> dict:
        """A JSON-safe form (``from_json`` reads it back)."""
        return {
            "label": self.label,
            "codes": dict(self.codes),
            "examples": {name: sorted(ids) for name, ids in self.examples.items()},
            "against": [[name, flag, total] for (name, flag), total in self.against.items()],
        }

    @classmethod
    def from_json(cls, data: Mapping) -> RuleCounts:
        return cls(
            data["label"],
            data["codes"],
            {name: frozenset(ids) for name, ids in data["examples"].items()},
            {(name, bool(flag)): total for name, flag, total in data["against"]},
        )


def rule_counts(index: ConsensusIndex, rule_id: int) -> RuleCounts:
    """The rule's ``RuleCounts`` now, remembered with the facts they were read from."""
    rule = index.rules[rule_id]
    facts = index.facts(rule)
    if rule.counted is not None and rule.counted[0] is facts:
        return rule.counted[1]
    if rule.counted is not None and rule.counted[0].serial == facts.serial:
        rule.counted = (facts, rule.counted[1])  # a newer version, the same slots
        return rule.counted[1]
    counts = _read_counts(index, rule_id, facts.examples)
    rule.counted = (facts, counts)
    return counts


def _read_counts(index: ConsensusIndex, rule_id: int, held: frozenset[int]) -> RuleCounts:
    """``RuleCounts`` of the examples in ``held`` (slots), by array steps: a suspect rule
    at M holds thousands of examples, and an edit touches ~100 rules (a Python loop over
    their slots was ~0.45 s of each example edit)."""
    store, names, rule = index.examples, index.label_names, index.rules[rule_id]
    slots = np.fromiter(held, dtype=np.int64, count=len(held))
    codes, training = store.label[slots], store.training[slots]
    by_code: dict[int, frozenset[int]] = {rule.label: frozenset()}
    trained_codes, trained_ids = codes[training], store.ids[slots[training]]
    order = np.argsort(trained_codes, kind="stable")
    trained_codes, trained_ids = trained_codes[order], trained_ids[order]
    for code in np.unique(trained_codes).tolist():
        lo, hi = np.searchsorted(trained_codes, [code, code + 1]).tolist()
        by_code[code] = frozenset(trained_ids[lo:hi].tolist())
    other = codes != rule.label
    groups = 2 * codes[other].astype(np.int64) + (store.refutes[slots[other]] == rule_id)
    found, totals = np.unique(groups, return_counts=True)
    against = {
        (names[group // 2], bool(group % 2)): total
        for group, total in zip(found.tolist(), totals.tolist(), strict=True)
    }
    label_codes = {names[code]: code for code in sorted(by_code)}
    label_codes.update((name, index.label_code(name)) for name, _ in against)
    return RuleCounts(
        names[rule.label],
        label_codes,
        {names[code]: by_code[code] for code in sorted(by_code)},
        against,
    )


def rendered(found: Contradiction, counts: Mapping[int, RuleCounts]) -> tuple[dict[str, int], str]:
    """The evidence and note ``found`` shows, its rules' counts taken from ``counts`` (by
    rule id); as it is when it counts nothing (``counted`` empty)."""
    if not found.counted:
        return found.evidence, found.note
    if found.counted == PAIR_COUNTS:
        a, b = (counts[ref.id] for ref in found.teachings)
        names = (f"rule #{found.teachings[0].id}", f"rule #{found.teachings[1].id}")
        codes = {**a.codes, **b.codes}
        shared = {
            name: len(ids & b.examples[name])
            for name, ids in a.examples.items()
            if name in b.examples
        }
        evidence = _in_code_order(codes, shared, (a.label, b.label))
        words = evidence_note(names, shared.get(a.label, 0), shared.get(b.label, 0))
        return evidence, f"{found.note} {words}"
    return _rule_example_rendered(found, counts)


def _rule_example_rendered(
    found: Contradiction, counts: Mapping[int, RuleCounts]
) -> tuple[dict[str, int], str]:
    """A ``rule_example``: the rule's standing before the example's own sentence, what the
    rule's examples say after it (unless a counterexample), and how many more there are."""
    _, label = found.counted
    rule_ref = next(ref for ref in found.teachings if ref.type == "rule")
    rule, name = counts[rule_ref.id], f"rule #{rule_ref.id}"
    total = sum(len(ids) for ids in rule.examples.values())
    standing = Standing(total, total - rule.count(rule.label))
    parts = [found.note]
    if standing.suspect:
        parts.insert(0, suspect_note(name, standing))
    if not found.expected:
        parts.append(
            evidence_note((name, f"the label {label}"), rule.count(rule.label), rule.count(label))
        )
    more = rule.against.get((label, found.expected), 0) - RULE_EXAMPLES_SHOWN
    if more > 0:
        examples = "example" if more == 1 else "examples"
        parts[-1] += (
            f" {more} more {examples} labelled {label} lie inside {name}'s region "
            f"(only the first {RULE_EXAMPLES_SHOWN} are listed)."
        )
    present = {name: len(ids) for name, ids in rule.examples.items() if ids}
    return _in_code_order(rule.codes, present, (rule.label, label)), " ".join(parts)


def _in_code_order(
    codes: Mapping[str, int], present: Mapping[str, int], shown: tuple[str, ...]
) -> dict[str, int]:
    """Counts per label name in code order: the teachings' own labels always, others when
    present."""
    names = {*shown, *(name for name, count in present.items() if count)}
    return {name: present.get(name, 0) for name in sorted(names, key=lambda n: codes[n])}


def counted_rules(found: Contradiction) -> list[int]:
    """The rules whose counts ``found`` shows."""
    if not found.counted:
        return []
    return [ref.id for ref in found.teachings if ref.type == "rule"]


def index_rendered(index: ConsensusIndex, found: Contradiction) -> tuple[dict[str, int], str]:
    """``rendered`` with the index's counts now (the preview, the benches, tests)."""
    return rendered(
        found, {rule_id: rule_counts(index, rule_id) for rule_id in counted_rules(found)}
    )


__all__ = [
    "EXAMPLE_COUNTS",
    "PAIR_COUNTS",
    "RULE_EXAMPLES_SHOWN",
    "RuleCounts",
    "counted_rules",
    "index_rendered",
    "rendered",
    "rule_counts",
]
