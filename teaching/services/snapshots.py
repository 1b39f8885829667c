"""Reading a space's teachings into an engine ``Snapshot``, paying only for what changed.

A retrain after one new example should not read and decode 100,000 examples again, nor
convert them into columns again. So each process keeps, for the last few spaces it trained
(``_SpaceCache``):

- each active example's ``ExampleSpec`` with the revision it was read at. An example's
  features, label, refutes, evaluation and status change only with its revision (every
  write records one), so a snapshot reads the examples written since the space's revision
  it last read at, and the disputed ones (``disputed`` is the consensus app's, no
  revision), and checks the active examples' count and id sum against the database (else
  it reads every active example's id, revision and flag); the rest of an example is read
  only when it is new or changed. Author names and expertise (memberships change without a
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
from django.db.models import Count, Sum

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
_STALE = 1000  # retired examples kept in a space's cache at most


@dataclass
class _SpaceCache:
    """What this process remembers of one space between trainings."""

    # example id → (revision, author id, disputed, (author name, expertise), spec)
    examples: dict[int, tuple[int, int, bool, tuple[str, str], Any]] = field(default_factory=dict)
    # The last snapshot's specs by their (id, revision, disputed) row, and the authors'
    # (name, expertise) they were made with: while those are the same, a row read again
    # with the same values is the same spec (``_example_specs``'s fast path).
    specs: dict[tuple, Any] = field(default_factory=dict)
    who: dict[int, tuple[str, str]] = field(default_factory=dict)
    authors: set[int] = field(default_factory=set)  # of the cached examples (and retired ones)
    # The active examples' (id, revision, disputed) by id, in id order, as read when the
    # space's teaching revision was ``read_at``; the disputed ones' ids (``_rows_since``).
    rows: dict[int, tuple] | None = None
    read_at: int = 0
    disputed: set[int] = field(default_factory=set)
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
        # Every cached example's author, retired ones' too: a few names more to read is
        # cheaper than going through 10,000 examples for theirs.
        cache.authors.update(detail[1] for detail in details.values())
        author_ids = (
            set(expertise)
            | {row[2] for row in concept_rows}
            | {row[3] for row in rule_rows}
            | cache.authors
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
    read = _rows_since(space, cache) if cache.rows is not None else None
    if read is None:
        read = {row[0]: row for row in _fetch(active.values_list("id", "revision", "disputed"))}
        cache.disputed = {pk for pk, _, flag in read.values() if flag}
    cache.rows, cache.read_at = read, space.teaching_revision
    rows = list(read.values())
    cached, known = cache.examples, cache.specs
    # Rows read before with the same values need no details (most rows: a C-level pass).
    unknown = () if all(map(known.__contains__, rows)) else rows
    missing = [
        pk
        for pk, revision, _ in (row for row in unknown if row not in known)
        if (entry := cached.get(pk)) is None or entry[0] != revision
    ]
    if not missing:
        return rows, {}
    if len(missing) <= _FETCH_ALL_ABOVE:
        active = active.filter(pk__in=missing)
    fetched = active.values_list("id", "label", "author_id", "refutes_id", "evaluation", "features")
    wanted = set(missing)
    return rows, {pk: rest for pk, *rest in fetched if pk in wanted}


def _rows_since(space: Space, cache: _SpaceCache) -> dict[int, tuple] | None:
    """The active examples' rows (``_SpaceCache.rows``) from the cached ones and the examples
    written since they were read: every write of an example sets its revision to the
    space's new one, and ``disputed`` (the consensus app's, no revision) is read for the
    disputed examples alone. None, for a full read, when more were written than
    _FETCH_ALL_ABOVE or the result is not proven: the active examples' count and id sum
    must be the database's (an example whose status changed without a revision)."""
    examples = Example.objects.filter(space=space)
    written = _fetch(
        examples.filter(revision__gt=cache.read_at)
        .order_by("id")
        .values_list("id", "revision", "disputed", "status")
    )
    if len(written) > _FETCH_ALL_ABOVE:
        return None
    active = examples.filter(status=Status.ACTIVE)
    disputed = {pk for (pk,) in _fetch(active.filter(disputed=True).values_list("id"))}
    count, total = active.aggregate(n=Count("id"), total=Sum("id")).values()
    rows = dict(cache.rows)
    last, ordered = next(reversed(rows), 0), True
    for pk, revision, flag, status in written:
        if status != Status.ACTIVE:
            rows.pop(pk, None)
            continue
        ordered = ordered and (pk in rows or pk > last)
        last = max(last, pk)
        rows[pk] = (pk, revision, flag)
    for pk in cache.disputed ^ disputed:  # disputed or no longer, without a revision
        row = rows.get(pk)
        if row is not None and bool(row[2]) != (pk in disputed):
            rows[pk] = (pk, row[1], pk in disputed)
    if len(rows) != count or sum(rows) != (total or 0):
        log.warning("examples of space %s changed without a revision; read them all", space.pk)
        return None
    cache.disputed = disputed
    return rows if ordered else dict(sorted(rows.items()))


def _fetch(query) -> list[tuple]:
    """``query``'s rows as the database gives them: the ORM's SQL on a plain cursor
    (Django's per-row converters would cost more than the query; disputed comes back as 0/1
    on SQLite, a bool on PostgreSQL)."""
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _example_specs(
    cache: _SpaceCache,
    rows: list[tuple],
    details: dict[int, tuple],
    usernames: dict[int, str],
    expertise: dict[int, str],
) -> list:
    """ExampleSpecs for ``rows``: the last snapshot's spec of a row read with the same
    values while every author's name and expertise are the same, else the cached spec when
    nothing about it changed, the cached features with new author facts or flag, or a new
    spec from ``details``. Leaves these examples in the cache (and retired ones, until
    they are more than _STALE)."""
    who = {author: (name, expertise.get(author, "novice")) for author, name in usernames.items()}
    known = cache.specs if who == cache.who else {}
    # (``None in specs`` would compare None with every spec: dataclass equality.)
    specs = list(map(known.get, rows))
    cached = cache.examples
    for i in [i for i, spec in enumerate(specs) if spec is None]:
        specs[i] = known[rows[i]] = _example_spec(rows[i], details, cached, who)
    if len(cached) > len(rows) + _STALE:  # forget retired examples
        cache.examples = {pk: cached[pk] for pk, _, _ in rows}
        cache.authors = {entry[1] for entry in cache.examples.values()}
    if len(known) > len(rows) + _STALE:  # and rows read before at older revisions
        known = dict(zip(rows, specs, strict=True))
    cache.specs, cache.who = known, who
    return specs


def _example_spec(row: tuple, details: dict[int, tuple], cached: dict, who: dict):
    """The spec of one example ``row``: the cached one when nothing about it changed, the
    cached features with new author facts or flag, or a new spec from ``details``; the
    cache's entry updated."""
    from mola.engine.learning import ExampleSpec

    pk, revision, flag = row
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
        _, author, was_disputed, was, spec = cached[pk]
        author_is = who[author]
        if was_disputed == disputed and was == author_is:
            return spec
        # The same features object: the fit's table keeps this row.
        spec = dataclasses.replace(
            spec, author=author_is[0], expertise=author_is[1], disputed=disputed
        )
    cached[pk] = (revision, author, disputed, author_is, spec)
    return spec
