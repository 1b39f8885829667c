"""What a rule would do if saved, computed without saving it — the one preview the API
(``POST /rules/preview``) and the teach page show — and the examples each live rule covers.

Examples counted are the space's *teaching examples*: active and not held out for
evaluation, the ones the model learns from (the same ones ``predictions_changed`` is about).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cases.services.coverage import draft_pool_coverage
from consensus.loading import current_index, index_lock
from mola.engine.consensus import RuleItem
from mola.engine.consensus.counted import index_rendered
from mola.engine.consensus.shown import shown
from mola.engine.language import ConditionError, compile_condition
from mola.engine.lru import LRU
from mola.engine.table import Table, table_from_rows
from mola.errors import MolaError
from teaching.language import compile_in_space, space_concepts
from teaching.models import Example, Rule, Space, Status
from teaching.services.predict import load_model, serving_version
from teaching.services.rules import rule_check

PREVIEW_ID = -1  # never a database id
MAX_LISTED = 50  # example ids the API lists per group; the counts are always complete
PREDICT_DIRECTLY = 500  # covered examples a preview labels itself rather than look up


@dataclass
class RulePreview:
    """``agreeing``/``disagreeing``: ids of the covered teaching examples, by id, whose label
    is / is not the rule's (no label yet: none agree)."""

    condition: str
    label: str
    examples_total: int = 0
    agreeing: list[int] = field(default_factory=list)
    disagreeing: list[int] = field(default_factory=list)
    contradictions: list[dict[str, Any]] = field(default_factory=list)
    predictions_changed: int | None = None
    pool: dict[str, Any] | None = None  # what it would do on the case pool (with a label)

    @property
    def covered(self) -> int:
        return len(self.agreeing) + len(self.disagreeing)

    def as_dict(self) -> dict[str, Any]:
        """The API's answer."""
        return {
            "covers": {
                "agreeing": len(self.agreeing),
                "disagreeing": len(self.disagreeing),
                "agreeing_ids": self.agreeing[:MAX_LISTED],
                "disagreeing_ids": self.disagreeing[:MAX_LISTED],
            },
            "contradictions": self.contradictions,
            "predictions_changed": self.predictions_changed,
            "pool": self.pool,
        }


@dataclass(frozen=True)
class TeachingExamples:
    """The space's teaching examples at one revision, by id: ids, labels and their table."""

    key: tuple[int, str]  # (teaching revision, schema digest)
    ids: np.ndarray
    labels: np.ndarray
    table: Table

    # The labels a model version gives these examples (``predicted_by``): one version kept.
    predictions: dict[int, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def predicted_by(self, version) -> np.ndarray:
        """The labels ``version`` gives every one of these examples, worked out once."""
        found = self.predictions.get(version.pk)
        if found is None:
            found = np.asarray(load_model(version).predict(self.table), dtype=object)
            self.predictions.clear()
            self.predictions[version.pk] = found
        return found

    def rows(self, mask: np.ndarray) -> Table:
        return Table(
            {name: column[mask] for name, column in self.table.columns.items()}, int(mask.sum())
        )


TABLES_KEPT = 4  # spaces whose teaching examples a process holds (~15 MB each at M)
_tables: LRU[int, TeachingExamples] = LRU(TABLES_KEPT)


def teaching_examples(space: Space) -> TeachingExamples:
    """The examples the model learns from (active, not held out for evaluation), read and
    typed once per revision of the space in each process: the teach page previews a rule as
    its author types, and typing 10,000 examples took ~0.3 s of each preview at M."""
    key = (space.teaching_revision, hashlib.sha1(repr(space.features).encode()).hexdigest())
    held = _tables.get(space.pk)
    if held is not None and held.key == key:
        return held
    rows = list(
        Example.objects.filter(space=space, status=Status.ACTIVE, evaluation=False)
        .order_by("id")
        .values_list("pk", "features", "label")
    )
    built = TeachingExamples(
        key=key,
        ids=np.array([pk for pk, _, _ in rows], dtype=np.int64),
        labels=np.array([label for _, _, label in rows], dtype=object),
        table=table_from_rows(space.schema, [features for _, features, _ in rows]),
    )
    _tables.put(space.pk, built)
    return built


def forget_teaching_examples() -> None:
    """Drop what this process holds (tests: ids and revisions restart in each database)."""
    _tables.clear()


def rule_preview(*, space: Space, condition: str, label: str) -> RulePreview:
    """Covered examples (agreeing / disagreeing), the contradictions the rule would raise,
    how many of the serving model's predictions on teaching examples would change, and what
    it would do on the case pool (``pool``: coverage, overlaps, conflicts, newly covered).

    ``label`` may be empty while a teacher has not chosen one (the page previews as they
    type): the condition is still checked and its examples counted. Raises ``InvalidInput``
    for a condition that does not compile or an unknown label."""
    if label:
        compiled = rule_check(space=space, condition=condition, label=label)
    else:
        compiled = compile_in_space(condition, space=space, field="condition")
    examples = teaching_examples(space)
    covered = np.zeros(len(examples.ids), dtype=bool)
    if len(examples.ids):
        covered = compiled.evaluate(examples.table)
    agrees = examples.labels == label
    preview = RulePreview(
        condition=condition,
        label=label,
        examples_total=len(examples.ids),
        agreeing=examples.ids[covered & agrees].tolist(),
        disagreeing=examples.ids[covered & ~agrees].tolist(),
    )
    preview.contradictions = contradictions_if_saved(
        space=space, region=compiled.region, label=label, condition=condition
    )
    if label:
        preview.predictions_changed = _predictions_changed(space, examples, covered, label)
        preview.pool = draft_pool_coverage(space=space, condition=compiled, label=label)
    return preview


def rule_coverage(*, space: Space, rules: list[Rule]) -> dict[int, tuple[int, int]]:
    """``{rule id: (teaching examples covered, of which agreeing)}`` (rules whose condition
    no longer compiles are left out)."""
    if not rules:
        return {}
    examples = teaching_examples(space)
    if not len(examples.ids):
        return {}
    concepts = space_concepts(space)
    coverage: dict[int, tuple[int, int]] = {}
    for rule in rules:
        try:
            condition = compile_condition(rule.condition, space.schema, concepts)
        except ConditionError:
            continue
        mask = condition.evaluate(examples.table)
        coverage[rule.pk] = (int(mask.sum()), int((mask & (examples.labels == rule.label)).sum()))
    return coverage


def contradictions_if_saved(
    *, space: Space, region, label: str, condition: str
) -> list[dict[str, Any]]:
    """The contradictions a rule with this region and label would take part in, as a check
    would store them (a few of its disagreeing examples per label), most severe first."""
    _, current = current_index(space.pk, found=False)
    item = RuleItem(id=PREVIEW_ID, label=label, author="", region=region, text=condition)
    # Another thread's preview uses the same id on the same index.
    with index_lock(space.pk):
        current.index.replace(item)
        try:
            found = shown(current.index, current.index.check(item.ref)).values()
            # The counts are put in while the previewed rule is in the index.
            notes = {c.key: index_rendered(current.index, c)[1] for c in found}
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
            "note": notes[c.key],
        }
        for c in found
    ]


def _predictions_changed(
    space: Space, examples: TeachingExamples, covered: np.ndarray, label: str
) -> int | None:
    """Covered teaching examples the serving model labels otherwise today: an upper bound
    on the predictions the rule could change (a full retrain would be needed to be exact)."""
    if not covered.any():
        return 0
    try:
        version = serving_version(space=space)
        if covered.sum() <= PREDICT_DIRECTLY:
            predicted = np.asarray(load_model(version).predict(examples.rows(covered)))
        else:
            # A broad rule, previewed again and again as its author types: the version's
            # labels for every example, once (~1 s at M), then a count.
            predicted = examples.predicted_by(version)[covered]
    except MolaError:
        return None
    return int((predicted != label).sum())
