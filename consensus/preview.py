"""What a rule would do if saved, computed without saving it."""

from __future__ import annotations

from typing import Any

import numpy as np

from cases.services.coverage import draft_pool_coverage
from consensus.loading import current_index, index_lock
from mola.engine.consensus import RuleItem
from mola.engine.consensus.shown import shown
from mola.engine.table import table_from_rows
from mola.errors import MolaError
from teaching.models import Example, Space, Status
from teaching.services.predict import load_model, serving_version
from teaching.services.rules import rule_check

PREVIEW_ID = -1  # never a database id
MAX_LISTED = 50


def rule_preview(*, space: Space, condition: str, label: str) -> dict[str, Any]:
    """Covered examples (agreeing / disagreeing), the contradictions the rule would raise,
    how many of the serving model's predictions on teaching examples would change, and what
    it would do on the case pool (``pool``: coverage, overlaps, conflicts, newly covered)."""
    compiled = rule_check(space=space, condition=condition, label=label)
    examples = list(
        Example.objects.filter(space=space, status=Status.ACTIVE, evaluation=False).values(
            "pk", "features", "label"
        )
    )
    covered = np.zeros(len(examples), dtype=bool)
    if examples:
        covered = compiled.evaluate(
            table_from_rows(space.schema, [e["features"] for e in examples])
        )
    inside = [e for e, hit in zip(examples, covered, strict=True) if hit]
    agreeing = [e["pk"] for e in inside if e["label"] == label]
    disagreeing = [e["pk"] for e in inside if e["label"] != label]
    return {
        "covers": {
            "agreeing": len(agreeing),
            "disagreeing": len(disagreeing),
            "agreeing_ids": agreeing[:MAX_LISTED],
            "disagreeing_ids": disagreeing[:MAX_LISTED],
        },
        "contradictions": contradictions_if_saved(
            space=space, region=compiled.region, label=label, condition=condition
        ),
        "predictions_changed": _predictions_changed(space, examples, covered, label),
        "pool": draft_pool_coverage(space=space, condition=compiled, label=label),
    }


def contradictions_if_saved(
    *, space: Space, region, label: str, condition: str
) -> list[dict[str, Any]]:
    """The contradictions a rule with this region and label would take part in, as a check
    would store them (a few of its disagreeing examples per label), most severe first."""
    _, current = current_index(space.pk)
    item = RuleItem(id=PREVIEW_ID, label=label, author="", region=region, text=condition)
    with index_lock:  # another thread's preview uses the same id on the same index
        current.index.replace(item)
        try:
            found = shown(current.index, current.index.check(item.ref)).values()
        finally:
            current.index.remove(item.ref)
    found = sorted(found, key=lambda c: (-c.severity, c.key))
    return [
        {
            "kind": c.kind,
            "teachings": [{"type": r.type, "id": r.id} for r in c.teachings if r.id != PREVIEW_ID],
            "witness": c.witness,
            "region": c.region_text,
            "severity": c.severity,
            "note": c.note,
        }
        for c in found
    ]


def _predictions_changed(
    space: Space, examples: list[dict], covered: np.ndarray, label: str
) -> int | None:
    """Covered teaching examples the serving model labels otherwise today: an upper bound
    on the predictions the rule could change (a full retrain would be needed to be exact)."""
    if not covered.any():
        return 0
    try:
        model = load_model(serving_version(space=space))
    except MolaError:
        return None
    rows = [e["features"] for e, hit in zip(examples, covered, strict=True) if hit]
    predicted = model.predict(table_from_rows(space.schema, rows))
    return int(sum(1 for p in predicted if p != label))
