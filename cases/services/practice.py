"""The practice queue — the model asks its experts about what it knows least — and answers.

Ranking (``mola.engine.practice``) needs the serving model's probabilities on the pool. At
100,000 cases that is seconds, so a queue is ranked from a seeded sample of at most
``CANDIDATES`` unanswered cases, and only its best ``SHORTLIST`` are explained (for the
nearest examples that decide ``experts_disagree``). The ranked shortlist with its answers
and explanations is kept in the shared cache per serving version and pool version: every
answer retrains the model, and the next version ranks afresh. Cases answered since are left
out when the queue is read.

An answer is an example made by ``examples_create`` — the same service, checks and novice
review as any example — and marks the case answered in the same transaction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from cases.models import Case
from cases.selectors import pool_matrix, pool_version
from cases.services.coverage import pool_rules
from mola.engine.coverage import table_take
from mola.engine.practice import for_expertise, rank_cases
from mola.errors import Conflict, MolaError, NotFound
from teaching.models import Example, Space
from teaching.services.access import check_member
from teaching.services.examples import examples_create
from teaching.services.predict import instances_table, load_model, serving_version
from teaching.services.revisions import space_lock

CANDIDATES = 2_000
QUEUE_MAX = 100
KEEP_SECONDS = 6 * 3600


def _sample(ids: np.ndarray, answered: set[int], seed: int) -> np.ndarray:
    """Positions of at most ``CANDIDATES`` unanswered cases, the same for one pool version."""
    open_positions = np.flatnonzero(~np.isin(ids, list(answered))) if answered else None
    if open_positions is None:
        open_positions = np.arange(len(ids))
    if len(open_positions) <= CANDIDATES:
        return open_positions
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(open_positions, CANDIDATES, replace=False))


def _ranked(space: Space, serving) -> list[dict[str, Any]]:
    """The shortlist, best first: ``{case, features, reason, score, difficulty, model}``."""
    version = pool_version(space=space)
    key = f"mola:practice:{space.pk}:{serving.pk}:{version}:{space.teaching_revision}"
    found = cache.get(key)
    if found is not None:
        return found
    rules = pool_rules(space=space)
    answered = set(
        Case.objects.filter(space=space, answer__isnull=False).values_list("id", flat=True)
    )
    model = load_model(serving)
    with pool_matrix(space=space) as matrix:
        # pool_rules read the same pool just before; align by id in case it changed since.
        rule_position = {int(case_id): p for p, case_id in enumerate(rules.case_ids)}
        chosen = [
            p
            for p in _sample(matrix.ids, answered, seed=version)
            if int(matrix.ids[p]) in rule_position
        ]
        ids = matrix.ids[chosen]
        table = table_take(matrix.table, np.array(chosen, dtype=np.int64))
        rows_features = _features(space, ids)
    on_rules = np.array([rule_position[int(i)] for i in ids], dtype=np.int64)
    queue = rank_cases(
        model, table, rules.summary.conflicted[on_rules], rules.summary.covered[on_rules]
    )
    ranked = [
        {
            "case": int(ids[p]),
            "features": rows_features[int(ids[p])],
            "reason": queue.reasons[i],
            "score": round(float(queue.scores[i]), 4),
            "difficulty": round(float(queue.difficulty[i]), 4),
            "model": {
                "version": serving.version,
                "teaching_revision": serving.teaching_revision,
                **queue.explanations[i].as_dict(),
            },
        }
        for i, p in enumerate(queue.positions.tolist())
    ]
    cache.set(key, ranked, KEEP_SECONDS)
    return ranked


def _features(space: Space, ids: np.ndarray) -> dict[int, dict]:
    return dict(Case.objects.filter(space=space, pk__in=ids.tolist()).values_list("id", "features"))


def practice_queue(*, space: Space, user, limit: int = 10) -> list[dict[str, Any]]:
    """The cases most worth this member's answer, best first for their expertise: each with
    its reason, the model's answer and explanation. Never a case already answered. Raises
    ``Conflict`` (``untrained``) before the space has a model."""
    membership = check_member(space=space, user=user)
    limit = max(1, min(limit, QUEUE_MAX))
    ranked = _ranked(space, serving_version(space=space))
    answered = set(
        Case.objects.filter(
            space=space, pk__in=[item["case"] for item in ranked], answer__isnull=False
        ).values_list("id", flat=True)
    )
    best = [item for item in ranked if item["case"] not in answered][:limit]
    difficulty = np.array([item["difficulty"] for item in best])
    order = for_expertise(np.arange(len(best)), difficulty, membership.expertise)
    return [_shown(best[i]) for i in order.tolist()]


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "case": {"id": item["case"], "features": item["features"]},
        "reason": item["reason"],
        "score": item["score"],
        "difficulty": item["difficulty"],
        "model": item["model"],
    }


def practice_answer(
    *, space: Space, user, case_id: int, label: str, note: str = ""
) -> tuple[Example, int]:
    """Answer a pool case: it becomes an example by ``user`` (proposed for a novice where
    the space reviews novices) and leaves the queue. A case is answered once (409)."""
    with transaction.atomic():
        space = space_lock(space_id=space.pk)
        case = Case.objects.select_for_update().filter(space=space, pk=case_id).first()
        if case is None:
            raise NotFound(f"No case #{case_id} in {space.slug}.")
        if case.answer_id is not None:
            raise Conflict(
                f"Case #{case_id} has been answered already (example #{case.answer_id}).",
                code="already_answered",
                example=case.answer_id,
            )
        note = note or f"Answered from the practice queue (case #{case_id})."
        [example], revision = examples_create(
            space=space,
            user=user,
            items=[{"features": case.features, "label": label, "note": note}],
            batch=False,
        )
        case.answer, case.answered_at = example, timezone.now()
        case.save(update_fields=["answer", "answered_at"])
    return example, revision


def case_model_answer(*, space: Space, case: Case) -> dict[str, Any] | None:
    """The serving model's answer on one case, with its version (None before a model)."""
    try:
        serving = serving_version(space=space)
    except MolaError:
        return None
    model = load_model(serving)
    [explanation] = model.explain(instances_table(space=space, instances=[case.features]))
    return {
        "version": serving.version,
        "teaching_revision": serving.teaching_revision,
        **explanation.as_dict(),
    }
