"""Turn one pair of teachings the index found in conflict, a rule and a rule or a rule and an
example, into a ``Contradiction`` (examples and concepts alone: ``case_findings``).

Every builder orders the pair by ``Ref`` first, so the same pair gives the same witness,
text and severity whichever teaching was checked: incremental results equal from-scratch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mola.engine.consensus.counted import EXAMPLE_COUNTS, PAIR_COUNTS
from mola.engine.consensus.geometry import overlap, within
from mola.engine.consensus.items import (
    RULE_EXAMPLE,
    RULE_EXCEPTION,
    RULE_OVERLAP,
    Contradiction,
    ExampleItem,
    contradiction_key,
    teaching_name,
    teaching_words,
)
from mola.engine.consensus.severity import (
    EXPECTED_WEIGHT,
    KIND_WEIGHT,
    Standing,
    severity,
    suspect_note,
)
from mola.engine.consensus.witnesses import (
    NO_WITNESS_NOTE,
    checked_pair_witness,
    without_missing,
)

if TYPE_CHECKING:
    from mola.engine.consensus.index import ConsensusIndex
    from mola.engine.consensus.rule_facts import RuleState


def rule_pair(index: ConsensusIndex, x: RuleState, y: RuleState) -> Contradiction:
    """Two rules with different labels whose regions meet (precondition).

    Remembered per pair (``index.pairs``): the overlap's geometry while both rule states
    stand, and the contradiction itself while what it is built from is unchanged, so a
    check after one example edit rebuilds only the pairs whose evidence or standing moved
    and hands back the very same object for the rest (the store compares by identity)."""
    a, b = (x, y) if x.item.id < y.item.id else (y, x)
    pair = (a.item.id, b.item.id)
    memo = index.pairs.get(pair)
    if memo is None or memo.a is not a or memo.b is not b:
        memo = index.pairs[pair] = _PairMemo(a, b, _pair_geometry(index, a, b))
    facts_a, facts_b = index.facts(a), index.facts(b)
    standings = (facts_a.standing, facts_b.standing)
    # What the pair's words and severity take of the standings (``_rule_pair``): which rule
    # is suspect, and how high that lifts it. An example entering a suspect rule's region
    # mostly leaves both as they were, and the pair then stays the same object.
    suspects = (facts_a.standing.rank, facts_b.standing.rank)
    recent = (index.recent.n_rows, facts_a.recent_bits, facts_b.recent_bits)
    if (
        memo.found is not None
        and memo.suspects == suspects
        and memo.recent == recent
        and _same_shared(index, a, memo.serials[0], b, memo.serials[1])
    ):
        memo.serials = (facts_a.serial, facts_b.serial)
        return memo.found
    shared = facts_a.bits & facts_b.bits
    counts = index.label_counts_of_bits(shared) if shared else _NO_COUNTS
    in_both = (facts_a.recent_bits & facts_b.recent_bits).bit_count()
    memo.suspects, memo.recent = suspects, recent
    memo.serials = (facts_a.serial, facts_b.serial)
    if memo.found is None or memo.counts != (counts, in_both, suspects):
        value = _pair_severity(index, memo.geometry, counts, (a, b), in_both, standings)
        if not _same_words(memo, suspects, value):
            memo.found = _rule_pair(index, a, b, memo.geometry, value, standings)
        memo.counts = (counts, in_both, suspects)
    return memo.found


def _same_words(memo: _PairMemo, suspects: tuple, value: float) -> bool:
    """Whether ``_rule_pair`` would build ``memo.found`` again: each rule is suspect or not
    as before and the severity comes out the same. Its words leave the counts out
    (``counted``), so it does when only the examples both rules hold moved, or when a
    suspect rule's rank moves under a pair that a more suspect partner ranks (~6k of the
    ~13k pairs rebuilt per example edit at M); handing back the same object also keeps
    the pair "at standing" (``pair_at_standing``)."""
    if memo.found is None:
        return False
    before = memo.counts[2]
    flags = [rank is not None for rank in before] == [rank is not None for rank in suspects]
    return flags and memo.found.severity == value


def pair_at_standing(index: ConsensusIndex, found: Contradiction, rule_id: int) -> bool:
    """Whether ``found``, a contradiction of a pair of rules (one of them ``rule_id``), is
    the one ``rule_pair`` remembers for these two rule states, built at the rule's current
    rounded rank (``Standing.rank``): then only a change of the examples the two share can
    have moved it (``shown_refreshed``)."""
    a, b = found.teachings
    memo = index.pairs.get((a.id, b.id))
    if memo is None or memo.found is not found or not memo.counts:
        return False
    if memo.a is not index.rules.get(a.id) or memo.b is not index.rules.get(b.id):
        return False
    rule, side = (memo.a, 0) if a.id == rule_id else (memo.b, 1)
    return memo.counts[2][side] == index.facts(rule).standing.rank


@dataclass(eq=False)
class _PairMemo:
    """What ``rule_pair`` remembers of a pair of rule states."""

    a: RuleState
    b: RuleState
    geometry: tuple
    found: Contradiction | None = None
    serials: tuple[int, int] = (-1, -1)  # the facts' serials ``found`` was checked against
    suspects: tuple[float | None, ...] = ()  # rounded suspicion of each suspect rule
    recent: tuple[int, int, int] = (0, 0, 0)
    counts: tuple = ()  # evidence, recent points inside, suspects ``found`` was built from


def _same_shared(
    index: ConsensusIndex, a: RuleState, since_a: int, b: RuleState, since_b: int
) -> bool:
    """Whether the examples both rules hold are the same as when their facts had serials
    ``since_a`` / ``since_b``: every slot that entered or left one rule since then lies
    outside the other (a relabelled example leaves and enters its slot again)."""
    moved_a, moved_b = index.slots_moved(a, since_a), index.slots_moved(b, since_b)
    if moved_a is None or moved_b is None:
        return False
    bits_a, bits_b = index.facts(a).bits, index.facts(b).bits
    if any(bits_b >> slot & 1 or slot in moved_b for slot in moved_a):
        return False
    return not any(bits_a >> slot & 1 for slot in moved_b)


def _pair_geometry(index: ConsensusIndex, a: RuleState, b: RuleState) -> tuple:
    """The overlap of two rules in words, its witness, which lies within which, and whether
    a witness was found (text features)."""
    parts_a, parts_b = index.parts(a), index.parts(b)
    if parts_a is not None and parts_b is not None:
        text, witness, a_in_b, b_in_a = index.reader.pair(parts_a, parts_b)
    else:
        region = overlap(a.item.region, b.item.region)
        a_in_b = within(a.item.region, b.item.region, a.hull, b.hull)
        b_in_a = within(b.item.region, a.item.region, b.hull, a.hull)
        text, witness = index.reader.words(region), index.reader.witness(region)
    found_witness = True
    if index.has_text:
        checked = checked_pair_witness(index.schema, a.item.region, b.item.region, witness)
        found_witness = checked is not None
        witness = checked if checked is not None else without_missing(witness)
    return text, witness, a_in_b, b_in_a, found_witness


def _pair_kind(geometry: tuple) -> str:
    a_in_b, b_in_a = geometry[2], geometry[3]
    return RULE_EXCEPTION if a_in_b != b_in_a else RULE_OVERLAP


def _pair_severity(
    index: ConsensusIndex,
    geometry: tuple,
    counts: Counter[int],
    rules: tuple[RuleState, RuleState],
    recent: int,
    standings: tuple[Standing, Standing],
) -> float:
    weight = KIND_WEIGHT[_pair_kind(geometry)]
    side_a, side_b = counts[rules[0].label], counts[rules[1].label]
    return _severity(index, weight, sum(counts.values()), side_a, side_b, recent, standings)


def _rule_pair(
    index: ConsensusIndex,
    a: RuleState,
    b: RuleState,
    geometry: tuple,
    value: float,
    standings: tuple[Standing, Standing],
) -> Contradiction:
    """The pair's contradiction, its severity ``value`` worked out (``_pair_severity``)."""
    text, witness, a_in_b, _, found_witness = geometry
    kind = _pair_kind(geometry)
    name_a, first_a, _ = index.names(a)
    name_b, _, later_b = index.names(b)
    names = (name_a, name_b)
    notes = [suspect_note(n) for n, s in zip(names, standings, strict=True) if s.suspect]
    if not found_witness:
        notes.append(NO_WITNESS_NOTE)
    if kind == RULE_EXCEPTION:
        specific, general = names if a_in_b else names[::-1]
        notes.append(
            f"{specific.capitalize()} covers only part of {general}'s cases and gives another "
            "label there: probably a deliberate exception, which a moderator can confirm "
            f"({specific} takes precedence)."
        )
    elif a_in_b:
        notes.append("Both rules cover exactly the same cases but give different labels.")
    else:
        notes.append(f"Both rules apply when {text}.")
    # The evidence and the sentence on it come from the rules' counts when shown (``counted``).
    # contradiction_key of two rules, a's id first
    key = f"{kind}:rule:{a.item.id}+rule:{b.item.id}"
    return Contradiction(
        kind=kind,
        teachings=(a.ref, b.ref),
        # Shared with the pair's remembered geometry, not copied: no one writes to a found
        # contradiction's witness, and ~96k copies held ~45 MB of an index at M.
        witness=witness,
        region_text=text,
        evidence={},
        severity=value,
        note=" ".join(notes),
        key=key,
        summary=f"{first_a}, {later_b}, when {text}",
        counted=PAIR_COUNTS,
    )


_NO_COUNTS: Counter[int] = Counter()  # read only
_SEVERITY_MEMO_LIMIT = 1 << 16


def _severity(
    index: ConsensusIndex,
    weight: float,
    examples: int,
    side_a: int,
    side_b: int,
    recent: int,
    standings: tuple[Standing, ...],
) -> float:
    """``severity`` with ``recent_share`` the share of the ``recent`` points inside; the same
    few inputs recur across thousands of overlaps, so values are remembered."""
    key = (
        weight,
        examples,
        side_a,
        side_b,
        recent,
        index.recent.n_rows,
        *((s.examples, s.disagreeing) for s in standings),
    )
    memo = index.severities
    value = memo.get(key)
    if value is None:
        if len(memo) > _SEVERITY_MEMO_LIMIT:
            memo.clear()
        value = memo[key] = severity(
            weight,
            examples=examples,
            side_a=side_a,
            side_b=side_b,
            recent_share=recent / index.recent.n_rows if index.recent.n_rows else 0.0,
            standings=standings,
        )
    return value


def rule_example(index: ConsensusIndex, rule: RuleState, example: ExampleItem) -> Contradiction:
    """An example inside the rule's region with another label (precondition)."""
    example_label = index.label_code(example.label)
    expected = example.refutes == rule.item.id
    value, after = _rule_verdict(index, rule, example_label, expected)
    text, point = index.example_words(example)
    rule_name, rule_words, _ = index.names(rule)
    middle = (
        f"{teaching_name(example).capitalize()} lies inside {rule_name}'s region but is "
        f"labelled {example.label}."
    )
    teachings = tuple(sorted((rule.item.ref, example.ref)))
    return Contradiction(
        kind=RULE_EXAMPLE,
        teachings=teachings,
        witness=dict(point),
        region_text=text,
        evidence={},
        severity=value,
        note=" ".join((middle, *after)),
        key=contradiction_key(RULE_EXAMPLE, teachings),
        expected=expected,
        summary=f"{rule_words}, {teaching_words(example, first=False)}, when {text}",
        counted=(EXAMPLE_COUNTS, example.label),
    )


def _rule_verdict(
    index: ConsensusIndex, rule: RuleState, example_label: int, expected: bool
) -> tuple[float, tuple[str, ...]]:
    """What a ``rule_example`` says that depends on the rule and the example's label only
    (severity, the count-free note after the example's own sentence), worked out once per
    label: a rule may hold a thousand examples of a handful of labels. The rule's standing
    and counts are put in when shown (``counted.rendered``)."""
    facts = index.facts(rule)
    if rule.verdicts is None or rule.verdicts[0] is not facts:
        rule.verdicts = (facts, {})
    memo = rule.verdicts[1]
    found = memo.get((example_label, expected))
    if found is not None:
        return found
    counts, standing = facts.counts, facts.standing
    rule_name = index.names(rule)[0]
    value = severity(
        EXPECTED_WEIGHT if expected else KIND_WEIGHT[RULE_EXAMPLE],
        examples=facts.standing.examples,
        side_a=counts[rule.label],
        side_b=counts[example_label],
        recent_share=_share(index, facts.recent),
        standings=(standing,),
    )
    after: tuple[str, ...] = ()
    if expected:
        after = (
            f"It was written as a counterexample to {rule_name}, so the disagreement is "
            "deliberate: record it, no dispute needed.",
        )
    found = memo[(example_label, expected)] = (value, after)
    return found


def _share(index: ConsensusIndex, inside: frozenset[int]) -> float:
    return len(inside) / index.recent.n_rows if index.recent.n_rows else 0.0
