"""Filling and emptying a space's case pool.

An import is all or nothing: every row is checked with the validation predict uses
(``rows_table``) before anything is written, and the rows go in with the pool's version bump
in one transaction under the pool row's lock, so a concurrent import never passes the cap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cases.models import Case, CasePool, CaseSource
from mola.errors import Conflict, InvalidInput, NotAllowed, NotFound, TooLarge
from teaching.models import Space
from teaching.selectors import recent_inputs
from teaching.services.access import check_member, check_moderator
from teaching.services.predict import rows_table

MAX_IMPORT = 100_000
_INSERT_BATCH = 2_000
# How often a read may copy prediction inputs into a pool that opted in (seconds).
TRAFFIC_EVERY = 60
TRAFFIC_SETTING = "sample_predictions_into_pool"


def pool_cap() -> int:
    return settings.CASE_POOL_MAX


def features_digest(features: dict[str, Any]) -> str:
    return hashlib.sha1(orjson.dumps(features, option=orjson.OPT_SORT_KEYS)).hexdigest()


def pool_get(*, space: Space) -> CasePool:
    pool, _ = CasePool.objects.get_or_create(space=space)
    return pool


def _pool_lock(space: Space) -> CasePool:
    """Inside a transaction: the space's pool row, locked for the rest of it."""
    pool_get(space=space)
    return CasePool.objects.select_for_update().get(space=space)


def cases_check(*, space: Space, rows: Any) -> None:
    """Refuse anything but 1 to ``MAX_IMPORT`` valid rows, naming every refused row's problems
    as ``cases[17].pace`` (the first hundred, then how many rows were refused)."""
    if not isinstance(rows, list) or not rows:
        raise InvalidInput(
            "cases is a non-empty list of feature objects.", code="invalid", field="cases"
        )
    if len(rows) > MAX_IMPORT:
        raise TooLarge(
            f"At most {MAX_IMPORT:,} cases per import; split the file.",
            code="too_many",
            field="cases",
        )
    rows_table(
        schema=space.schema,
        rows=rows,
        field=lambda index: f"cases[{index}]",
        noun="A case",
        listed=100,
        count_refused=True,
    )


def cases_import(
    *, space: Space, user, rows: Any, source: str = CaseSource.IMPORT
) -> dict[str, int]:
    """Add ``rows`` to the pool, all or none; returns ``{imported, total}``.

    Members import. Past the pool's cap (``CASE_POOL_MAX``) nothing is added (409
    ``pool_full``, saying how many cases still fit).
    """
    check_member(space=space, user=user)
    cases_check(space=space, rows=rows)
    return _cases_add(space=space, user=user, rows=rows, source=source)


def _cases_add(*, space: Space, user, rows: Sequence[dict], source: str) -> dict[str, int]:
    # As str at once: orjson's bytes keep a spare buffer each (~7 KB: 100,000 small cases
    # held 780 MB as bytes, 25 MB as str).
    texts = [orjson.dumps(row, option=orjson.OPT_SORT_KEYS).decode() for row in rows]
    with transaction.atomic():
        pool = _pool_lock(space)
        cap = pool_cap()
        if pool.size + len(texts) > cap:
            raise Conflict(
                f"The case pool holds at most {cap:,} cases; it has {pool.size:,}, so "
                f"{max(0, cap - pool.size):,} more fit. Delete cases or import fewer.",
                code="pool_full",
                field="cases",
                room=max(0, cap - pool.size),
            )
        _insert(space, user, texts, source)
        CasePool.objects.filter(pk=pool.pk).update(
            version=F("version") + 1, size=F("size") + len(texts)
        )
    return {"imported": len(texts), "total": pool.size + len(texts)}


def _insert(space: Space, user, texts: list[str], source: str) -> None:
    """One prepared INSERT run by executemany, a batch at a time: building 100,000 model
    instances for ``bulk_create`` cost ~10 s of CPU, most of an import."""
    table = Case._meta.db_table
    json_value = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"INSERT INTO {table} (space_id, features, source, digest, added_by_id, created_at) "
        f"VALUES (%s, {json_value}, %s, %s, %s, %s)"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    user_id = user.pk if user is not None else None
    with connection.cursor() as cursor:
        for start in range(0, len(texts), _INSERT_BATCH):
            cursor.executemany(
                sql,
                [
                    (space.pk, text, source, hashlib.sha1(text.encode()).hexdigest(), user_id, now)
                    for text in texts[start : start + _INSERT_BATCH]
                ],
            )


def case_delete(*, space: Space, user, case_id: int) -> None:
    """Remove a case from the pool: whoever added it, a moderator or an owner. The example
    an answer made of it stays (it is a teaching, with its own history)."""
    membership = check_member(space=space, user=user)
    with transaction.atomic():
        pool = _pool_lock(space)
        case = Case.objects.filter(space=space, pk=case_id).first()
        if case is None:
            raise NotFound(f"No case #{case_id} in {space.slug}.")
        if case.added_by_id != user.pk and not membership.moderates:
            raise NotAllowed(
                f"Only whoever added case #{case_id}, a moderator or an owner can delete it.",
                code="not_the_author",
            )
        case.delete()
        CasePool.objects.filter(pk=pool.pk).update(version=F("version") + 1, size=F("size") - 1)


def cases_delete_where(*, space: Space, user, ids: list[int]) -> dict[str, int]:
    """Remove the cases ``ids`` (those a ``?where=`` matched) — moderators and owners only;
    the examples answers made stay. Returns ``{deleted, total}``."""
    check_moderator(space=space, user=user)
    with transaction.atomic():
        pool = _pool_lock(space)
        deleted = 0
        for start in range(0, len(ids), 5_000):  # bounded IN lists
            deleted += Case.objects.filter(space=space, pk__in=ids[start : start + 5_000]).delete()[
                0
            ]
        CasePool.objects.filter(pk=pool.pk).update(
            version=F("version") + 1, size=F("size") - deleted
        )
    return {"deleted": deleted, "total": pool.size - deleted}


def pool_sample_traffic(*, space: Space, recent: list[dict] | None = None) -> int:
    """For a space that opted in (setting ``sample_predictions_into_pool``), copy the sample
    of recent prediction inputs into the pool, skipping cases already there; at most once a
    minute, and never past the cap (traffic is a sample: what does not fit is dropped).
    Returns how many cases were added."""
    if not space.settings.get(TRAFFIC_SETTING):
        return 0
    pool = pool_get(space=space)
    now = timezone.now()
    if pool.traffic_sampled_at and now - pool.traffic_sampled_at < timedelta(seconds=TRAFFIC_EVERY):
        return 0
    # Claim this minute's sampling with a conditional UPDATE: one process does it.
    claimed = CasePool.objects.filter(
        pk=pool.pk, traffic_sampled_at=pool.traffic_sampled_at
    ).update(traffic_sampled_at=now)
    if not claimed:
        return 0
    if recent is None:
        recent = recent_inputs(space=space)
    fresh: dict[str, dict] = {features_digest(row): row for row in recent}
    known = set(
        Case.objects.filter(space=space, digest__in=list(fresh)).values_list("digest", flat=True)
    )
    rows = [row for digest, row in fresh.items() if digest not in known]
    rows = rows[: max(0, pool_cap() - pool.size)]
    if not rows:
        return 0
    _cases_add(space=space, user=None, rows=rows, source=CaseSource.TRAFFIC)
    return len(rows)
