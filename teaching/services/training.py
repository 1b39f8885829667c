"""Retraining a space's model in the worker, and publishing model versions.

The queue of one space is its ``TrainingState`` row, claimed with conditional UPDATEs (as
healthchecks claims its jobs), so any number of worker processes can run this safely:

- ``retrain_schedule`` raises ``wanted_revision`` and sends a task (on commit of the write);
- ``retrain_run`` (the task) claims the space if nobody trains it, trains the space's newest
  revision, publishes, releases, and goes again if a newer revision was asked for meanwhile.
  A burst of writes therefore collapses into at most two trainings, the last one of the
  newest revision; and a version is published only if no version of a newer revision is.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import OrderedDict
from datetime import timedelta
from threading import Lock
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from mola.db import consistent_read
from teaching.language import cached_condition, space_concepts_keyed
from teaching.models import (
    Concept,
    Example,
    Membership,
    ModelStatus,
    ModelVersion,
    Rule,
    RulePrecedence,
    Space,
    Status,
    TrainingState,
)

log = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died; another may take the space over.
STALE_CLAIM = timedelta(minutes=5)
MAX_ROUNDS = 5  # trainings one task does back to back before leaving the rest to a new task


def retrain_schedule(*, space_id: int, revision: int) -> None:
    """Ask for the space's model to be trained from ``revision`` (or newer)."""
    from teaching.tasks import retrain_space

    TrainingState.objects.get_or_create(space_id=space_id)
    TrainingState.objects.filter(space_id=space_id).update(
        wanted_revision=Greatest(F("wanted_revision"), revision), requested_at=timezone.now()
    )
    retrain_space.delay(space_id)


def _claim(space_id: int) -> bool:
    """Take the space's training for this process; False if another worker has it."""
    now = timezone.now()
    claimed = TrainingState.objects.filter(
        Q(running_since__isnull=True) | Q(running_since__lt=now - STALE_CLAIM),
        space_id=space_id,
    ).update(running_since=now)
    return claimed == 1


def _release(space_id: int) -> None:
    TrainingState.objects.filter(space_id=space_id).update(
        running_since=None, running_revision=None
    )


def retrain_run(*, space_id: int) -> int:
    """Train the space while newer revisions are wanted. Returns how many trainings ran."""
    rounds = 0
    while rounds < MAX_ROUNDS:
        state = TrainingState.objects.filter(space_id=space_id).first()
        if state is None or state.wanted_revision <= state.trained_revision:
            return rounds
        if not _claim(space_id):
            return rounds  # the worker that holds it will see the newer wanted revision
        try:
            # Re-read after claiming: a worker that just released may have trained it.
            state.refresh_from_db()
            if state.wanted_revision > state.trained_revision:
                train_space(space_id=space_id)
                rounds += 1
        finally:
            _release(space_id)
    from teaching.tasks import retrain_space

    retrain_space.delay(space_id)  # still behind after MAX_ROUNDS: let another task go on
    return rounds


def space_snapshot(space: Space):
    """The space's active teachings as an engine Snapshot (call in one transaction).

    Built from plain ``values_list`` rows (no model instances: 100,000 examples are read in
    a fraction of the time), with conditions compiled through the per-process caches of
    ``teaching.language`` (keyed by content), and stored examples taken as they are: every
    write validated them against the schema, and the schema cannot change under them.
    """
    from django.contrib.auth import get_user_model

    from mola.engine.language import ConditionError
    from mola.engine.learning import ConceptSpec, Precedence, RuleSpec, Snapshot

    schema = space.schema
    key, compiled = space_concepts_keyed(space)
    expertise = dict(Membership.objects.filter(space=space).values_list("user_id", "expertise"))
    active = {"space": space, "status": Status.ACTIVE}
    concept_rows = list(Concept.objects.filter(**active).values_list("id", "name", "author_id"))
    rule_rows = list(
        Rule.objects.filter(**active).values_list(
            "id", "condition", "label", "author_id", "disputed"
        )
    )
    # Everything but the features: those come from the per-process cache when unchanged.
    example_rows = list(
        Example.objects.filter(**active).values_list(
            "id", "revision", "label", "author_id", "refutes_id", "evaluation", "disputed"
        )
    )
    author_ids = (
        set(expertise)
        | {row[2] for row in concept_rows}
        | {row[3] for row in rule_rows}
        | {row[3] for row in example_rows}
    )
    usernames = dict(
        get_user_model().objects.filter(pk__in=author_ids).values_list("pk", "username")
    )
    concepts = [
        ConceptSpec(id=pk, name=name, author=usernames[author], condition=compiled[name])
        for pk, name, author in concept_rows
        if name in compiled
    ]
    rules = []
    for pk, text, label, author, disputed in rule_rows:
        try:
            condition = cached_condition(text, schema, compiled, key)
        except ConditionError:  # cannot happen through the services; never crash a training
            log.warning("rule %s of %s does not compile; left out", pk, space.slug)
            continue
        rules.append(
            RuleSpec(
                id=pk,
                label=label,
                author=usernames[author],
                expertise=expertise.get(author, "novice"),
                condition=condition,
                disputed=disputed,
            )
        )
    examples = _example_specs(space, example_rows, usernames, expertise)
    rule_ids = {r.id for r in rules}
    precedences = [
        Precedence(winner=w, loser=lo)
        for w, lo in RulePrecedence.objects.filter(space=space).values_list("winner_id", "loser_id")
        if w in rule_ids and lo in rule_ids
    ]
    return Snapshot(
        schema=schema,
        concepts=concepts,
        rules=rules,
        examples=examples,
        precedences=precedences,
        revision=space.teaching_revision,
    )


# Per process: the ExampleSpecs of the last few spaces trained, by example id, with the
# revision they were read at. An example's features, label, refutes and evaluation change
# only with its revision (every write records one); author names, expertise and disputed
# are compared on every snapshot. So a retrain decodes only the examples changed since the
# last one, and reuses the same spec objects for the rest.
_EXAMPLE_CACHE_SPACES = 2
_example_cache: OrderedDict[tuple, dict[int, tuple[tuple, tuple, Any]]] = OrderedDict()
_example_cache_lock = Lock()
_FETCH_ALL_ABOVE = 2000  # more changed examples than this: read every feature column at once


def _example_specs(space: Space, rows: list[tuple], usernames: dict, expertise: dict) -> list:
    """ExampleSpecs for ``rows`` (id, revision, label, author_id, refutes_id, evaluation,
    disputed) of ``space``, reading features only for examples not cached at that revision."""
    from mola.engine.learning import ExampleSpec

    space_key = (space.pk, space.created_at)
    with _example_cache_lock:
        cached = _example_cache.pop(space_key, {})
    missing = [pk for pk, revision, *_ in rows if pk not in cached or cached[pk][0][1] != revision]
    fetched: dict = {}
    if missing:
        examples = Example.objects.filter(space=space, status=Status.ACTIVE)
        if len(missing) <= _FETCH_ALL_ABOVE:
            examples = examples.filter(pk__in=missing)
        fetched = dict(examples.values_list("id", "features"))
    who = {author: (name, expertise.get(author, "novice")) for author, name in usernames.items()}
    specs, fresh = [], {}
    for row in rows:
        pk, revision, label, author, refutes, evaluation, disputed = row
        author_is = who[author]
        entry = cached.get(pk)
        if entry is not None and entry[0] == row and entry[1] == author_is:
            spec = entry[2]  # nothing changed: the very same spec
        else:
            same_revision = entry is not None and entry[0][1] == revision
            spec = ExampleSpec(
                id=pk,
                features=entry[2].features if same_revision else fetched[pk],
                label=label,
                author=author_is[0],
                expertise=author_is[1],
                refutes=refutes,
                evaluation=evaluation,
                disputed=disputed,
            )
        specs.append(spec)
        fresh[pk] = (row, author_is, spec)
    with _example_cache_lock:
        _example_cache[space_key] = fresh
        while len(_example_cache) > _EXAMPLE_CACHE_SPACES:
            _example_cache.popitem(last=False)
    return specs


def _read_snapshot(space_id: int):
    with consistent_read():  # one view of every table, while writers go on
        space = Space.objects.get(pk=space_id)
        return space_snapshot(space)


def train_space(*, space_id: int) -> ModelVersion | None:
    """Train the space's newest revision and publish it unless a newer one is published."""
    from mola.engine.learning import fit

    started = time.perf_counter()
    requested_at = (
        TrainingState.objects.filter(space_id=space_id)
        .values_list("requested_at", flat=True)
        .first()
    )
    snapshot = _read_snapshot(space_id)
    revision = snapshot.revision
    TrainingState.objects.filter(space_id=space_id).update(running_revision=revision)
    next_version = (
        ModelVersion.objects.filter(space_id=space_id).aggregate(Max("version"))["version__max"]
        or 0
    ) + 1
    version = ModelVersion.objects.create(
        space_id=space_id,
        version=next_version,
        teaching_revision=revision,
        status=ModelStatus.TRAINING,
        requested_at=requested_at,
    )
    snapshot_seconds = time.perf_counter() - started
    try:
        model = fit(snapshot, random_state=0)
        artifact = model.to_bytes()
    except Exception as exc:
        log.exception("training %s at revision %s failed", space_id, revision)
        version.status = ModelStatus.FAILED
        version.error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        version.save(update_fields=["status", "error"])
        TrainingState.objects.filter(space_id=space_id).update(
            last_error=version.error,
            trained_revision=Greatest(F("trained_revision"), revision),
            trainings=F("trainings") + 1,
        )
        return None
    fit_seconds = time.perf_counter() - started - snapshot_seconds
    return _publish(
        version,
        model,
        artifact,
        snapshot,
        started,
        {"snapshot": snapshot_seconds, "fit": fit_seconds},
    )


def _publish(version, model, artifact, snapshot, started, timings) -> ModelVersion | None:
    space_id = version.space_id
    contributors = sorted(
        {r.author for r in snapshot.rules}
        | {c.author for c in snapshot.concepts}
        | {e.author for e in snapshot.examples if not e.evaluation}
    )
    with transaction.atomic():
        newer = ModelVersion.objects.filter(
            space_id=space_id,
            status=ModelStatus.READY,
            teaching_revision__gt=version.teaching_revision,
        ).exists()
        if newer:  # never publish an older revision over a newer one
            version.status = ModelStatus.FAILED
            version.error = "superseded by a version of a newer revision"
            version.save(update_fields=["status", "error"])
            return None
        version.artifact = artifact
        version.metrics = model.metrics_
        version.contributors = contributors
        version.teachings = {
            "rule": [r.id for r in snapshot.rules],
            "concept": [c.id for c in snapshot.concepts],
            "example": [e.id for e in snapshot.examples if not e.evaluation],
        }
        version.trained_at = timezone.now()
        version.training_seconds = time.perf_counter() - started
        timings["publish"] = version.training_seconds - sum(timings.values())
        if version.requested_at:
            timings["queue"] = max(
                0.0, (started_at(started) - version.requested_at).total_seconds()
            )
        version.timings = timings
        version.status = ModelStatus.READY
        version.save()
        TrainingState.objects.filter(space_id=space_id).update(
            trained_revision=Greatest(F("trained_revision"), version.teaching_revision),
            last_error="",
            trainings=F("trainings") + 1,
        )
    return version


def started_at(perf_start: float):
    """The wall-clock time at which a ``perf_counter`` reading was taken."""
    return timezone.now() - timedelta(seconds=time.perf_counter() - perf_start)
