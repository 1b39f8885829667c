"""Rule coverage on the case pool (``GET /coverage``) and a draft rule's (the rule preview).

Computed from this process's pool matrix (``cases.selectors.pool_matrix``: masks cached per
condition text and concepts, new cases evaluated incrementally); the answer is kept in the
shared cache per teaching revision and pool version, so any process serves a repeat from
there, and a teaching write or an import makes the next read compute afresh (evaluating only
what changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.cache import cache

from cases.selectors import pool_matrix, pool_version
from mola.engine.coverage import Coverage, coverage_of, draft_coverage
from mola.engine.language import Condition, ConditionError
from teaching.language import cached_condition, space_concepts_keyed
from teaching.models import Rule as RuleModel
from teaching.models import RulePrecedence, Space, Status

KEEP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class PoolRules:
    """The active rules as the pool sees them: ids, labels (indexes), masks' summary."""

    ids: list[int]
    labels: list[str]
    conditions: list[str]
    case_ids: np.ndarray  # the pool's case ids, aligned with the summary's per-case arrays
    summary: Coverage


def _active_rules(space: Space) -> tuple[list[dict], list[tuple[Any, Condition]]]:
    key, concepts = space_concepts_keyed(space)
    rules, compiled = [], []
    queryset = RuleModel.objects.filter(space=space, status=Status.ACTIVE).order_by("id")
    for rule in queryset.values("id", "label", "condition"):
        try:
            condition = cached_condition(rule["condition"], space.schema, concepts, key)
        except ConditionError:  # cannot happen for a saved rule; never fail a read on it
            continue
        rules.append(rule)
        compiled.append(((key, rule["condition"]), condition))
    return rules, compiled


def pool_rules(*, space: Space) -> PoolRules:
    """Every active rule's firing on the pool, summarised (precedences honoured)."""
    rules, compiled = _active_rules(space)
    label_index = {name: i for i, name in enumerate(space.schema.label_names)}
    labels = np.array([label_index.get(r["label"], -1) for r in rules], dtype=np.int64)
    position = {r["id"]: i for i, r in enumerate(rules)}
    precedences = [
        (position[w], position[lo])
        for w, lo in RulePrecedence.objects.filter(space=space).values_list("winner", "loser")
        if w in position and lo in position
    ]
    with pool_matrix(space=space) as matrix:
        masks = matrix.masks(compiled)
        case_ids = matrix.ids.copy()
        n_cases = matrix.n_cases
    return PoolRules(
        ids=[r["id"] for r in rules],
        labels=[r["label"] for r in rules],
        conditions=[r["condition"] for r in rules],
        case_ids=case_ids,
        summary=coverage_of(masks, labels, precedences, n_cases=n_cases),
    )


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def pool_coverage(*, space: Space) -> dict[str, Any]:
    """``{cases, uncovered, overlapping, conflicting, rules: [{rule, label, condition,
    coverage, overlaps, conflicts, counts, sample}]}``: shares of the pool, counts beside."""
    key = f"mola:coverage:{space.pk}:{space.teaching_revision}:{pool_version(space=space)}"
    found = cache.get(key)
    if found is not None:
        return found
    pool = pool_rules(space=space)
    summary, n = pool.summary, pool.summary.n_cases
    rules = [
        {
            "rule": {"type": "rule", "id": rule_id},
            "label": pool.labels[r],
            "condition": pool.conditions[r],
            "coverage": _share(int(summary.coverage[r]), n),
            "overlaps": _share(int(summary.overlaps[r]), n),
            "conflicts": _share(int(summary.conflicts[r]), n),
            "counts": {
                "coverage": int(summary.coverage[r]),
                "overlaps": int(summary.overlaps[r]),
                "conflicts": int(summary.conflicts[r]),
            },
            "sample": pool.case_ids[summary.samples[r]].tolist(),
        }
        for r, rule_id in enumerate(pool.ids)
    ]
    result = {
        "cases": n,
        "uncovered": _share(summary.uncovered, n),
        "overlapping": _share(summary.overlapping, n),
        "conflicting": _share(summary.conflicting, n),
        "counts": {
            "uncovered": summary.uncovered,
            "overlapping": summary.overlapping,
            "conflicting": summary.conflicting,
        },
        "teaching_revision": space.teaching_revision,
        "pool_version": pool_version(space=space),
        "rules": rules,
    }
    cache.set(key, result, KEEP_SECONDS)
    return result


def draft_pool_coverage(*, space: Space, condition: Condition, label: str) -> dict[str, Any]:
    """What a rule not yet saved would do on the pool: ``{cases, coverage, overlaps,
    conflicts, newly_covered, counts, sample}`` (shares of the pool, counts beside)."""
    rules, compiled = _active_rules(space)
    label_index = {name: i for i, name in enumerate(space.schema.label_names)}
    labels = np.array([label_index.get(r["label"], -1) for r in rules], dtype=np.int64)
    with pool_matrix(space=space) as matrix:
        masks = matrix.masks(compiled)
        draft = condition.evaluate(matrix.table)
        sample = matrix.ids[np.flatnonzero(draft)[:5]].tolist()
        n = matrix.n_cases
    counts = draft_coverage(draft, label_index.get(label, -1), masks, labels)
    return {
        "cases": n,
        **{name: _share(count, n) for name, count in counts.items()},
        "counts": counts,
        "sample": sample,
    }
