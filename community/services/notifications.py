"""The in-app inbox: tell members what happened to their teachings and threads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
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
    consensus check may call this after every check. Returns how many were stored.
    """
    stored = 0
    with transaction.atomic():
        for found in contradictions:
            teachings = teachings_by_ref(space=space, refs=found.teachings)
            if not teachings:
                continue
            names = ", ".join(f"{kind} #{pk}" for kind, pk in sorted(teachings))
            what = found.summary or found.region or found.kind.replace("_", " ")
            thread = Thread.objects.filter(pk=found.thread_id).first() if found.thread_id else None
            by_author: dict[int, list[str]] = {}
            for (kind, pk), teaching in sorted(teachings.items()):
                by_author.setdefault(teaching.author_id, []).append(f"{kind} #{pk}")
            for author_id, theirs in by_author.items():
                stored += notify(
                    space=space,
                    user_ids=[author_id],
                    kind=NotificationKind.DISPUTED,
                    message=f"Your {' and '.join(theirs)} is part of a contradiction "
                    f"({names}): {what}",
                    thread=thread,
                    data={
                        "contradiction": found.pk,
                        "contradiction_kind": found.kind,
                        "teachings": [ref_dict(ref_key(t)) for t in found.teachings],
                    },
                    key=f"contradiction:{found.pk}",
                )
    return stored


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's notifications read: those in ``ids``, or all. Returns how many."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


__all__ = ["notifications_mark_read", "notify", "notify_teachings_disputed"]
