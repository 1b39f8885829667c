"""The counts a rule contradiction shows, stored per rule (``RuleEvidence``) and put back into
its evidence and note when it is shown.

A check stores a rule contradiction's evidence and note without the counts, and what they
come from (``Contradiction.evidence_from``: ``mola.engine.consensus.counted``); it writes
each rule's counts when they moved (``rule_evidence_plan`` / ``rule_evidence_write``: the
~60-100 rules an example edit touches at M, not the ~4-11k contradictions whose counts
moved). A page of contradictions reads its rules' counts in one query (``rows_rendered``).
A contradiction that closes by itself keeps the words it had (``closing_freeze``): its rules'
counts go on moving without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from consensus.models import Contradiction, RuleEvidence
from consensus.stored_fields import content_digest
from mola.engine.consensus import Contradiction as Found
from mola.engine.consensus import Ref
from mola.engine.consensus.counted import RuleCounts, counted_rules, rendered
from teaching.models import Space

CountsMemory = dict[int, tuple[RuleCounts, str]]  # rule id → counts written, their digest


def rule_evidence_plan(
    *, space: Space, counts: Mapping[int, RuleCounts], memory: CountsMemory | None
) -> tuple[list[RuleEvidence], list[int], CountsMemory]:
    """The rules whose stored counts differ from ``counts`` (rows to write), the rule ids
    stored but gone, and the memory once written. ``memory`` (what this process wrote last,
    while no one else wrote) spares reading the stored digests: only the rules whose counts
    object changed are digested."""
    if memory is None:
        stored = dict(RuleEvidence.objects.filter(space=space).values_list("rule_id", "digest"))
        known: CountsMemory = {}
    else:
        stored = {rule_id: digest for rule_id, (_, digest) in memory.items()}
        known = memory
    written: list[RuleEvidence] = []
    after: CountsMemory = {}
    for rule_id, rule in counts.items():
        before = known.get(rule_id)
        if before is not None and before[0] is rule:
            after[rule_id] = before
            continue
        data = rule.as_json()
        digest = content_digest(data)
        after[rule_id] = (rule, digest)
        if stored.get(rule_id) != digest:
            written.append(RuleEvidence(space=space, rule_id=rule_id, counts=data, digest=digest))
    gone = [rule_id for rule_id in stored if rule_id not in counts]
    return written, gone, after


def rule_evidence_write(*, space: Space, written: list[RuleEvidence], gone: list[int]) -> None:
    """Upsert ``written`` and delete the rows of ``gone`` rules (inside the check's write)."""
    if written:
        RuleEvidence.objects.bulk_create(
            written,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["space", "rule_id"],
            update_fields=["counts", "digest"],
        )
    for start in range(0, len(gone), 500):
        RuleEvidence.objects.filter(space=space, rule_id__in=gone[start : start + 500]).delete()


def _found(row: Any) -> Found:
    """Enough of a stored row for ``counted.rendered``."""
    return Found(
        kind=row["kind"],
        teachings=tuple(Ref(t["type"], int(t["id"])) for t in row["teachings"]),
        witness={},
        region_text="",
        evidence=row["evidence"],
        severity=0.0,
        note=row["note"],
        key="",
        expected=row["expected"],
        counted=tuple(row["evidence_from"]),
    )


def rows_rendered(
    *, space: Space, rows: Iterable[Mapping[str, Any]]
) -> list[tuple[dict[str, int], str]]:
    """The evidence and note each row (a mapping of its fields) shows: one query for the
    counts of every rule the rows count with. A rule whose counts are missing (a row stored
    before ``RuleEvidence`` existed) leaves the row as stored."""
    found = [_found(row) for row in rows]
    wanted = {rule_id for item in found for rule_id in counted_rules(item)}
    counts = {
        rule_id: RuleCounts.from_json(data)
        for rule_id, data in RuleEvidence.objects.filter(
            space=space, rule_id__in=sorted(wanted)
        ).values_list("rule_id", "counts")
    }
    shown = []
    for item in found:
        if item.counted and all(rule_id in counts for rule_id in counted_rules(item)):
            shown.append(rendered(item, counts))
        else:
            shown.append((item.evidence, item.note))
    return shown


_FIELDS = ("pk", "kind", "teachings", "evidence", "note", "expected", "evidence_from")


def closing_freeze(*, space: Space, pks: list[int]) -> list[tuple[int, dict[str, Any]]]:
    """The rows among ``pks`` (closing by themselves) that count with their rules, with the
    evidence and note they show now (before this check's counts are written) to store in
    place of their sources; their digest is cleared so that found again they are compared
    in full."""
    frozen: list[tuple[int, dict[str, Any]]] = []
    for start in range(0, len(pks), 500):
        rows = list(
            Contradiction.objects.filter(pk__in=pks[start : start + 500])
            .exclude(kind__in=_UNCOUNTED)
            .values(*_FIELDS)
        )
        rows = [row for row in rows if row["evidence_from"]]
        for row, (evidence, note) in zip(rows, rows_rendered(space=space, rows=rows), strict=True):
            values = {"evidence": evidence, "note": note, "evidence_from": [], "digest": ""}
            frozen.append((row["pk"], values))
    return frozen


_UNCOUNTED = ("example_conflict", "concept_duplicate")


def shown_fields(row: Contradiction) -> dict[str, Any]:
    """The fields of a stored row that ``rows_rendered`` reads."""
    return {name: getattr(row, name) for name in _FIELDS if name != "pk"}


def contradiction_shown(row: Contradiction) -> tuple[dict[str, int], str]:
    """The evidence and note one stored row shows (``rows_rendered`` of one row)."""
    return rows_rendered(space=row.space, rows=[shown_fields(row)])[0]
