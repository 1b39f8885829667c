"""What a resolution would do, worked out without writing anything: the contradictions it
would close, the ones that would stay open, the teachings it would retire or restore, and
where the serving model's answer on the evidence (each decided dispute's witness case)
differs from the answer the decision settles on.

"The answer the decision settles on" per outcome: ``prefer`` and ``merge`` — the label of
the teaching that stays (none when both go or it has no label); ``precedence`` — the first
rule of ``order`` where two ordered rules clash; ``scope`` and ``dismiss`` change no answer.
The retrain decides the rest; this shows where today's model disagrees with the decision.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from community.models import Thread
from community.services.outcomes import Decision
from community.services.resolutions import (
    check_resolvable,
    decided_contradictions,
    decision_read,
    retiring_refs,
)
from consensus import decisions as consensus_decisions
from consensus.models import Contradiction
from consensus.selectors import contradictions_described
from mola.engine.language import ConditionError
from mola.engine.table import table_from_rows
from mola.errors import MolaError
from teaching.language import cached_condition, space_concepts_keyed
from teaching.models import LIVE_STATUSES, Example, Status
from teaching.services.access import check_moderator
from teaching.services.predict import load_model, serving_version

Ref = tuple[str, int]


def resolution_preview(
    *,
    thread: Thread,
    user,
    outcome: str,
    note: str = "",
    keep: list[dict[str, Any]] | None = None,
    retire: list[dict[str, Any]] | None = None,
    order: list[dict[str, Any]] | None = None,
    contradictions: list[int] | None = None,
) -> dict[str, Any]:
    """The effect of ``thread_resolve`` with the same arguments (the note is not needed),
    checked the same way (403 first, then 400/409), with no write."""
    space = thread.space
    check_moderator(space=space, user=user)
    check_resolvable(thread=thread, space=space, user=user)
    decision = decision_read(
        space=space, thread=thread, user=user, outcome=outcome, note=note or "preview",
        keep=keep, retire=retire, order=order,
    )  # fmt: skip
    decided = decided_contradictions(decision=decision, contradictions=contradictions)
    retiring = retiring_refs(decision)
    chosen = {d.id for d in decided}
    open_ids = [d.id for d in consensus_decisions.thread_disputes(thread_id=thread.pk) if d.open]
    rows = list(Contradiction.objects.filter(pk__in=chosen).order_by("-severity", "id"))
    answers = _answers(decision, rows, retiring)
    return {
        "outcome": outcome,
        "closes": contradictions_described(space=space, rows=rows),
        "stays_open": [pk for pk in open_ids if pk not in chosen],
        "thread_resolves": all(pk in chosen for pk in open_ids),
        "retire": [{"type": k, "id": pk} for k, pk in retiring],
        "restore": [
            {"type": k, "id": pk}
            for k, pk in decision.keep
            if (k, pk) in decision.found and decision.found[(k, pk)].status not in LIVE_STATUSES
        ],
        **answers,
    }


def _settled_label(decision: Decision, refs: list[Ref], retiring: set[Ref]) -> str | None:
    """The label the decision settles on where these teachings clash (module docstring)."""
    found = decision.found
    if decision.outcome in ("prefer", "merge"):
        staying = [found[r] for r in refs if r in found and r not in retiring and r[0] != "concept"]
        labels = {t.label for t in staying}
        return labels.pop() if len(labels) == 1 else None
    if decision.outcome == "precedence":
        ranked = [r for r in decision.order if r in refs]
        if len(ranked) >= 2 and ranked[0] in found:
            return found[ranked[0]].label
    return None


def _answers(decision: Decision, rows: list[Contradiction], retiring: list[Ref]) -> dict:
    """Per decided contradiction: the serving model's answer on its witness, the answer the
    decision settles on, and on the evidence (the teaching examples inside every teaching of
    the dispute) how many the model answers otherwise today."""
    model, model_version = None, None
    if rows:
        try:
            serving = serving_version(space=decision.space)
            model, model_version = load_model(serving), serving.version
        except MolaError:  # no trained model yet: nothing to compare with
            pass
    schema = decision.space.schema
    predicted = [None] * len(rows)
    if model is not None:
        predicted = list(model.predict(table_from_rows(schema, [row.witness for row in rows])))
    evidence = _evidence(decision, rows, model)
    gone = set(retiring)
    items = []
    for row, now in zip(rows, predicted, strict=True):
        after = _settled_label(decision, [(r["type"], int(r["id"])) for r in row.teachings], gone)
        cases, answers = evidence.get(row.pk, (0, []))
        items.append(
            {
                "contradiction": row.pk,
                "witness": row.witness,
                "now": now,
                "settles_on": after,
                "changes": now is not None and after is not None and now != after,
                "evidence_cases": cases,
                "evidence_answered_otherwise": (
                    sum(1 for a in answers if a != after) if after and model else None
                ),
            }
        )
    return {
        "model_version": model_version,
        "answers": items,
        "answers_changing": sum(1 for item in items if item["changes"]),
    }


def _evidence(
    decision: Decision, rows: list[Contradiction], model
) -> dict[int, tuple[int, list[str]]]:
    """Per contradiction id: how many active teaching examples lie inside every one of its
    rules (its examples, for an example's dispute) and the model's answers on them."""
    space = decision.space
    examples = list(
        Example.objects.filter(space=space, status=Status.ACTIVE, evaluation=False).values_list(
            "pk", "features"
        )
    )
    if not examples or not rows:
        return {}
    table = table_from_rows(space.schema, [features for _, features in examples])
    answers = list(model.predict(table)) if model is not None else [None] * len(examples)
    position = {pk: i for i, (pk, _) in enumerate(examples)}
    key, concepts = space_concepts_keyed(space)
    found: dict[int, tuple[int, list[str]]] = {}
    for row in rows:
        refs = [(r["type"], int(r["id"])) for r in row.teachings]
        inside = np.zeros(len(examples), dtype=bool)
        if row.kind in ("rule_example", "example_conflict"):  # the examples themselves
            for _, pk in (ref for ref in refs if ref[0] == "example"):
                if pk in position:
                    inside[position[pk]] = True
        elif all(kind == "rule" for kind, _ in refs):  # the examples in every rule's region
            inside[:] = True
            for ref in refs:
                inside &= _covered(decision.found.get(ref), table, space, concepts, key)
        chosen = np.flatnonzero(inside)
        found[row.pk] = (len(chosen), [answers[i] for i in chosen])
    return found


def _covered(rule, table, space, concepts, key) -> np.ndarray:
    """Which rows of ``table`` the rule's condition holds for (none for a missing rule or a
    condition that no longer compiles)."""
    if rule is None:
        return np.zeros(table.n_rows, dtype=bool)
    try:
        condition = cached_condition(rule.condition, space.schema, concepts, key)
    except ConditionError:
        return np.zeros(table.n_rows, dtype=bool)
    return np.asarray(condition.evaluate(table), dtype=bool)
