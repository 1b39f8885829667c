"""The in-app inbox: tell members what happened to their teachings and threads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.utils import timezone

from community.models import Notification, NotificationKind, Thread
from community.selectors.teachings import ref_dict, ref_key, teachings_by_ref
from teaching.models import Space


def notify(
    *,
    space: Space,
    user_ids: Iterable[int],
    kind: str,
    message: str,
    thread: Thread | None = None,
    data: dict[str, Any] | None = None,
    key: str = "",
    exclude: Iterable[int] = (),
) -> int:
    """Put one notification in each user's inbox (not ``exclude``'s); returns how many.

    With a ``key`` the same event is stored once per user, however often it is told.
    """
    skip = {pk for pk in exclude if pk is not None}
    rows = [
        Notification(
            user_id=user_id,
            space=space,
            kind=kind,
            thread=thread,
            message=message,
            data=data or {},
            key=key,
        )
        for user_id in sorted({pk for pk in user_ids if pk is not None} - skip)
    ]
    if not rows:
        return 0
    if not key:
        Notification.objects.bulk_create(rows)
        return len(rows)
    existing = set(
        Notification.objects.filter(key=key, user_id__in=[r.user_id for r in rows]).values_list(
            "user_id", flat=True
        )
    )
    fresh = [r for r in rows if r.user_id not in existing]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def notify_teachings_disputed(space: Space, contradictions: Sequence[Any]) -> int:
    """Tell the authors of each contradiction's teachings that they are disputed.

    ``contradictions`` are ``consensus.models.Contradiction`` rows. Idempotent: a
    contradiction is told to each author once (``key`` = ``contradiction:<id>``), so the
    consensus check may call this after every check. A few queries whatever the number of
    contradictions. Returns how many notifications were stored.
    """
    contradictions = [c for c in contradictions if c.pk is not None]
    if not contradictions:
        return 0
    teachings = teachings_by_ref(
        space=space, refs=[ref for c in contradictions for ref in c.teachings]
    )
    threads = Thread.objects.in_bulk({c.thread_id for c in contradictions if c.thread_id})
    keys = {f"contradiction:{c.pk}" for c in contradictions}
    told = set(Notification.objects.filter(key__in=keys).values_list("user_id", "key"))
    rows = []
    for found in contradictions:
        key = f"contradiction:{found.pk}"
        refs = [ref_key(t) for t in found.teachings]
        names = ", ".join(f"{kind} #{pk}" for kind, pk in refs)
        what = found.summary or found.region or found.kind.replace("_", " ")
        by_author: dict[int, list[str]] = {}
        for ref in refs:
            if ref in teachings:
                by_author.setdefault(teachings[ref].author_id, []).append(f"{ref[0]} #{ref[1]}")
        for author_id, theirs in by_author.items():
            if (author_id, key) in told:
                continue
            told.add((author_id, key))
            rows.append(
                Notification(
                    user_id=author_id,
                    space=space,
                    kind=NotificationKind.DISPUTED,
                    thread=threads.get(found.thread_id),
                    message=f"Your {' and '.join(theirs)} is part of a contradiction "
                    f"({names}): {what}",
                    data={
                        "contradiction": found.pk,
                        "contradiction_kind": found.kind,
                        "teachings": [ref_dict(ref) for ref in refs],
                    },
                    key=key,
                )
            )
    # ignore_conflicts: two checks racing on the same contradiction store it once.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read: those in ``ids``, or all. Returns how many."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


__all__ = ["notifications_mark_read", "notify", "notify_teachings_disputed"]
