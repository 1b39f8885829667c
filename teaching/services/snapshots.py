"""Reading a space's teachings into an engine ``Snapshot``, paying only for what changed.

A retrain after one new example should not read and decode 100,000 examples again, nor
convert them into columns again. So each process keeps, for the last few spaces it trained
(``_SpaceCache``):

- each active example's ``ExampleSpec`` with the revision it was read at. An example's
  features, label, refutes and evaluation change only with its revision (every write records
  one), so a snapshot reads every active example's id, revision and disputed flag (cheap
  columns) and the rest only for examples new or changed since; author names and expertise
  (memberships change without a revision) and ``disputed`` (the consensus app's, no
  revision) are compared on every snapshot. An unchanged example keeps the very same spec
  and features object — which is what lets
- the engine's ``FitCache`` reuse the last fit's example table and compiled tests (it
  recognises rows and conditions by identity).

Conditions are compiled through the per-process caches of ``teaching.language`` (keyed by
content); stored examples are taken as they are: every write validated them against the
schema, and the schema cannot change under them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from mola.db import consistent_read
from mola.engine import collector
from mola.engine.learning.caching import FitCache
from mola.engine.lru import LRU
from teaching.language import cached_condition, space_concepts_keyed
from teaching.models import (
    Concept,
    Example,
    Membership,
    Rule,
    RulePrecedence,
    Space,
    Status,
)
from teaching.signals import pool_sample

log = logging.getLogger(__name__)

_CACHED_SPACES = 2
_FETCH_ALL_ABOVE = 2000  # more changed examples than this: read every example's details


@dataclass
class _SpaceCache:
    """What this process remembers of one space between trainings."""

    # example id → (revision, author id, disputed, (author name, expertise), spec)
    examples: dict[int, tuple[int, int, bool, tuple[str, str], Any]] = field(default_factory=dict)
    fit: FitCache = field(default_factory=FitCache)


_caches: LRU[tuple, _SpaceCache] = LRU(_CACHED_SPACES)


def _space_key(space: Space) -> tuple:
    # With the creation time: a test database reuses ids for new spaces.
    return (space.pk, space.created_at)


def _take(key: tuple) -> _SpaceCache:
    """The space's cache, for this caller alone until ``_keep`` (a second caller meanwhile
    starts from an empty one: the caches are not thread-safe)."""
    return _caches.pop(key) or _SpaceCache()


def _keep(key: tuple, cache: _SpaceCache) -> None:
    _caches.put(key, cache)


def snapshot_read(*, space_id: int) -> tuple[Any, tuple]:
    """The space's snapshot in one consistent view of the database, and the key of this
    process's cache of the space (for ``fit_cache``)."""
    # One view of every table (writers go on); the collector held: 100,000 rows come as tuples
    # that hold no cycles and are gone by the end (mola/engine/collector.py).
    with consistent_read(), collector.paused():
        space = Space.objects.get(pk=space_id)
        return space_snapshot(space), _space_key(space)


@contextmanager
def fit_cache(key: tuple) -> Iterator[FitCache]:
    """This process's ``FitCache`` of the space ``key`` names, to pass to ``fit``."""
    cache = _take(key)
    try:
        yield cache.fit
    finally:
        _keep(key, cache)


def space_snapshot(space: Space):
    """The space's active teachings as an engine Snapshot (call in one transaction)."""
    from django.contrib.auth import get_user_model

    from mola.engine.language import ConditionError
    from mola.engine.learning import ConceptSpec, Precedence, RuleSpec, Snapshot
    from mola.engine.learning.pool import MAX_POOL_ROWS

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
    space_key = _space_key(space)
    cache = _take(space_key)
    try:
        example_rows, details = _example_rows(space, cache)
        example_authors = {
            details[pk][1] if pk in details else cache.examples[pk][1] for pk, _, _ in example_rows
        }
        author_ids = (
            set(expertise)
            | {row[2] for row in concept_rows}
            | {row[3] for row in rule_rows}
            | example_authors
        )
        usernames = dict(
            get_user_model().objects.filter(pk__in=author_ids).values_list("pk", "username")
        )
        examples = _example_specs(cache, example_rows, details, usernames, expertise)
    finally:
        _keep(space_key, cache)
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
        pool=pool_sample(space=space, limit=MAX_POOL_ROWS),
    )


def _example_rows(space: Space, cache: _SpaceCache) -> tuple[list[tuple], dict[int, tuple]]:
    """Every active example's (id, revision, disputed) in id order, and the details (label,
    author id, refutes id, evaluation, features) of those not cached at that revision."""
    active = Example.objects.filter(space=space, status=Status.ACTIVE)
    # The ORM's SQL, run on a plain cursor: Django's per-row converters would cost more
    # than the query (disputed comes back as 0/1 on SQLite, a bool on PostgreSQL).
    sql, params = active.values_list("id", "revision", "disputed").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    cached = cache.examples
    missing = [
        pk for pk, revision, _ in rows if (entry := cached.get(pk)) is None or entry[0] != revision
    ]
    if not missing:
        return rows, {}
    if len(missing) <= _FETCH_ALL_ABOVE:
        active = active.filter(pk__in=missing)
    fetched = active.values_list("id", "label", "author_id", "refutes_id", "evaluation", "features")
    wanted = set(missing)
    return rows, {pk: rest for pk, *rest in fetched if pk in wanted}


def _example_specs(
    cache: _SpaceCache,
    rows: list[tuple],
    details: dict[int, tuple],
    usernames: dict[int, str],
    expertise: dict[int, str],
) -> list:
    """ExampleSpecs for ``rows``: the cached spec when nothing about it changed, the cached
    features with new author facts or flag, or a new spec from ``details``. Leaves exactly
    these examples in the cache."""
    from mola.engine.learning import ExampleSpec

    who = {author: (name, expertise.get(author, "novice")) for author, name in usernames.items()}
    cached = cache.examples
    specs, fresh = [], {}
    for pk, revision, flag in rows:
        disputed = bool(flag)
        if pk in details:
            label, author, refutes, evaluation, features = details[pk]
            author_is = who[author]
            spec = ExampleSpec(
                id=pk,
                features=features,
                label=label,
                author=author_is[0],
                expertise=author_is[1],
                refutes=refutes,
                evaluation=bool(evaluation),
                disputed=disputed,
            )
        else:
            entry = cached[pk]
            _, author, was_disputed, was, spec = entry
            author_is = who[author]
            if was_disputed == disputed and was == author_is:
                specs.append(spec)
                fresh[pk] = entry  # the same objects: nothing new for the heap to hold
                continue
            # The same features object: the fit's table keeps this row.
            spec = dataclasses.replace(
                spec, author=author_is[0], expertise=author_is[1], disputed=disputed
            )
        specs.append(spec)
        fresh[pk] = (revision, author, disputed, author_is, spec)
    cache.examples = fresh
    return specs
