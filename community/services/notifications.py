"""The in-app inbox: tell members what happened to their teachings and threads, grouped.

Events are folded into one item per member and group instead of one item per event:

- ``disputes:<type>:<id>`` — new disputes about one of the member's teachings
  ("12 new disputes about your rule #41"); past ``MAX_TEACHING_ITEMS`` unread such items
  the rest go to one ``disputes:more`` item, the most severe teachings keeping their own;
- ``thread:<id>`` — posts, the opening, resolutions and appeals of one thread; past
  ``MAX_THREAD_ITEMS`` unread ones, ``threads:more``;
- ``reviews`` — endorsements and rejections of the member's proposals.

An item counts the events since its member last read it; a read item that gets a new event
comes back unread with a count of 1. Each folded event's key is remembered
(``data["told"]``), so an event told twice (two checks racing) counts once. The budgets
count the items unread or opened today (UTC), so a member sees at most
``2 * (MAX_TEACHING_ITEMS + 1) + 1`` = 19 distinct items per space in a day however busy it
is and however often they read (``bench/inbox.py``). Members on the daily digest see new items at their digest hour.
The wording of each item is in ``community/services/notices.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from community.models import (
    Delivery,
    Notification,
    NotificationKind,
    NotificationSettings,
    Thread,
)
from community.selectors.teachings import ref_key, teachings_by_ref
from community.services import notices
from mola.errors import InvalidInput
from teaching.models import Space

MAX_TEACHING_ITEMS = 8  # unread per-teaching dispute items a member has per space
MAX_THREAD_ITEMS = 8  # unread per-thread items a member has per space
MAX_TOLD = 500  # event keys remembered per item (older ones may, rarely, count again)
FOLDED_FIELDS = ["read_at", "count", "data", "visible_at", "opened_at", "kind", "updated_at",
                 "message", "thread"]  # fmt: skip
MORE_DISPUTES = "disputes:more"
MORE_THREADS = "threads:more"
REVIEWS = "reviews"


@dataclass
class Event:
    """One thing to tell one member; ``item`` is what the item's wording needs."""

    user_id: int
    group: str
    kind: str
    key: str
    item: dict[str, Any] = field(default_factory=dict)
    thread: Thread | None = None


def _space_groups(space: Space, group: str) -> str:
    # Groups are per space: the same thread or teaching id never collides across spaces
    # because ids are global, but "reviews" and the overflow items are per space.
    return f"{group}@{space.pk}" if group in (MORE_DISPUTES, MORE_THREADS, REVIEWS) else group


def deliver(*, space: Space, events: Sequence[Event]) -> int:
    """Fold ``events`` into their members' items; returns how many events were new.

    A few queries whatever the number of events. Placeholder rows are inserted first
    (ignoring conflicts), then all rows are locked and updated: two deliveries racing on a
    new group end up in one row."""
    if not events:
        return 0
    events = _capped(space, events)
    users = {e.user_id for e in events}
    groups = {e.group for e in events}
    now = timezone.now()
    with transaction.atomic():
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=user_id,
                    space=space,
                    group=group,
                    kind=kind,
                    message="",
                    count=0,
                    read_at=now,  # a fresh row starts as if read: the fold opens it
                    data={"told": []},
                )
                for (user_id, group), kind in {(e.user_id, e.group): e.kind for e in events}.items()
            ],
            ignore_conflicts=True,
        )
        rows = {
            (row.user_id, row.group): row
            for row in Notification.objects.select_for_update().filter(
                user_id__in=users, group__in=groups
            )
        }
        shown_at = _visible_times(users, now)
        changed, fresh_events = [], 0
        for event in events:
            row = rows[(event.user_id, event.group)]
            if event.key in row.data.get("told", []):
                continue
            if row.read_at is not None:  # read (or new): starts counting again
                row.read_at = None
                row.count = 0
                row.data = {"told": row.data.get("told", [])}
                row.visible_at = shown_at[event.user_id]
                row.opened_at = now
            row.data["told"] = [*row.data["told"], event.key][-MAX_TOLD:]
            row.count += 1
            row.kind = event.kind
            row.updated_at = now
            notices.fold(row, event)
            changed.append(row)
            fresh_events += 1
        _folded_save(list({id(r): r for r in changed}.values()))
    return fresh_events


def _folded_save(rows: list[Notification]) -> None:
    """``bulk_update(rows, FOLDED_FIELDS)`` as one prepared ``UPDATE … WHERE id = %s`` run
    with ``executemany``: ``bulk_update`` builds a ``CASE`` per row and field, ~0.1 s of
    each consensus check that opens disputes at M (its authors' items are folded here)."""
    if not rows:
        return
    quote, meta = connection.ops.quote_name, Notification._meta
    fields = [meta.get_field(name) for name in FOLDED_FIELDS]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _capped(space: Space, events: Sequence[Event]) -> list[Event]:
    """Scope the groups to the space and send events past a member's item budget to the
    overflow items (``events`` come most important first: the budget goes to them).

    The budget counts the member's items of the family that are unread or were opened
    today (UTC): reading them does not make room for more the same day."""
    events = [
        Event(e.user_id, _space_groups(space, e.group), e.kind, e.key, e.item, e.thread)
        for e in events
    ]
    users = {e.user_id for e in events}
    unread: dict[tuple[int, str], set[str]] = {}
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = Notification.objects.filter(
        Q(group__startswith="disputes:") | Q(group__startswith="thread:"),
        Q(read_at__isnull=True) | Q(opened_at__gte=today),
        user_id__in=users,
        space=space,
    ).values_list("user_id", "group")
    for user_id, group in rows:
        if group.startswith((MORE_DISPUTES, MORE_THREADS)):
            continue
        unread.setdefault((user_id, group.split(":")[0]), set()).add(group)
    for event in events:
        family = event.group.split(":")[0]
        if family not in ("disputes", "thread"):
            continue
        budget, overflow = (
            (MAX_TEACHING_ITEMS, MORE_DISPUTES) if family == "disputes" else
            (MAX_THREAD_ITEMS, MORE_THREADS)
        )  # fmt: skip
        own = unread.setdefault((event.user_id, family), set())
        if event.group in own:
            continue
        if len(own) < budget:
            own.add(event.group)
        else:
            event.group = _space_groups(space, overflow)
    return events


def _visible_times(user_ids: Iterable[int], now: datetime) -> dict[int, datetime]:
    """When a new item of each member shows: now, or their next digest hour."""
    digest = dict(
        NotificationSettings.objects.filter(
            user_id__in=user_ids, delivery=Delivery.DAILY
        ).values_list("user_id", "digest_hour")
    )
    return {user_id: next_digest(now, digest[user_id]) if user_id in digest else now
            for user_id in user_ids}  # fmt: skip


def next_digest(now: datetime, hour: int) -> datetime:
    """The next time it is ``hour`` o'clock (UTC) at or after ``now``."""
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today >= now else today + timedelta(days=1)


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
    """Tell each user (not ``exclude``'s) ``message``; returns how many were told.

    About a thread: folded into each user's item for the thread. Otherwise one ungrouped
    item each; with a ``key`` the same event is stored once per user, however often told."""
    skip = {pk for pk in exclude if pk is not None}
    users = sorted({pk for pk in user_ids if pk is not None} - skip)
    if not users:
        return 0
    if thread is not None:
        event_key = key or f"{kind}:{uuid.uuid4().hex}"
        item = {"message": message, "title": thread.title, "data": data or {}}
        return deliver(
            space=space,
            events=[Event(u, f"thread:{thread.pk}", kind, event_key, item, thread) for u in users],
        )
    rows = [
        Notification(
            user_id=user_id,
            space=space,
            kind=kind,
            message=message,
            data=data or {},
            key=key,
            visible_at=shown,
        )
        for user_id, shown in _visible_times(users, timezone.now()).items()
    ]
    if not key:
        Notification.objects.bulk_create(rows)
        return len(rows)
    existing = set(
        Notification.objects.filter(key=key, user_id__in=users).values_list("user_id", flat=True)
    )
    fresh = [r for r in rows if r.user_id not in existing]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def notify_teachings_disputed(space: Space, contradictions: Sequence[Any]) -> int:
    """Tell the authors of each contradiction's teachings that they are disputed.

    ``contradictions`` are ``consensus.models.Contradiction`` rows. Each is folded into its
    author's item for the teaching (``disputes:rule:41``), the most severe first; told once
    per author (the event key is ``contradiction:<id>``), so the consensus check may call
    this after every check. Returns how many events were new."""
    contradictions = sorted(
        (c for c in contradictions if c.pk is not None), key=lambda c: (-c.severity, c.pk)
    )
    if not contradictions:
        return 0
    teachings = teachings_by_ref(
        space=space, refs=[ref for c in contradictions for ref in c.teachings]
    )
    threads = Thread.objects.in_bulk({c.thread_id for c in contradictions if c.thread_id})
    events = []
    for found in contradictions:
        refs = [ref_key(t) for t in found.teachings]
        for ref in refs:
            teaching = teachings.get(ref)
            if teaching is None:
                continue
            others = [o for o in refs if o != ref] or [ref]
            item = notices.dispute_item(found, ref, others[0], teaching.author.username)
            events.append(
                Event(
                    teaching.author_id,
                    f"disputes:{ref[0]}:{ref[1]}",
                    NotificationKind.DISPUTED,
                    f"contradiction:{found.pk}",
                    item,
                    threads.get(found.thread_id),
                )
            )
    return deliver(space=space, events=events)


def notify_reviewed(
    *, space: Space, kind: str, teaching_id: int, author_id: int, actor, action: str, note: str
) -> int:
    """Tell a proposal's author that it was endorsed or rejected (``action``)."""
    if author_id is None or author_id == getattr(actor, "pk", None):
        return 0
    item = {
        "teaching": {"type": kind, "id": teaching_id},
        "action": action,
        "by": actor.username if actor else "",
        "note": note,
    }
    event = Event(
        author_id,
        REVIEWS,
        NotificationKind.REVIEW,
        f"{action}:{kind}:{teaching_id}:{uuid.uuid4().hex[:8]}",
        item,
    )
    return deliver(space=space, events=[event])


def notifications_mark_read(*, user, ids: list[int] | None = None) -> int:
    """Mark the user's shown notifications read: those in ``ids``, or all. Returns how many."""
    unread = Notification.objects.filter(
        user=user, read_at__isnull=True, visible_at__lte=timezone.now()
    )
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def notification_settings_get(*, user) -> NotificationSettings:
    found = NotificationSettings.objects.filter(user=user).first()
    return found or NotificationSettings(user=user)


def notification_settings_update(*, user, delivery: Any = None, digest_hour: Any = None):
    """Change how the member's inbox is delivered (400 naming a bad field, nothing saved)."""
    current = notification_settings_get(user=user)
    if delivery is not None:
        if delivery not in Delivery.values:
            raise InvalidInput(
                f"delivery is one of {', '.join(Delivery.values)}.",
                code="invalid_choice",
                field="delivery",
            )
        current.delivery = delivery
    if digest_hour is not None:
        if (
            isinstance(digest_hour, bool)
            or not isinstance(digest_hour, int)
            or not (0 <= digest_hour <= 23)
        ):
            raise InvalidInput(
                "digest_hour is a whole hour from 0 to 23 (UTC).",
                code="invalid",
                field="digest_hour",
            )
        current.digest_hour = digest_hour
    current.save()
    return current


__all__ = [
    "deliver",
    "notification_settings_get",
    "notification_settings_update",
    "notifications_mark_read",
    "notify",
    "notify_reviewed",
    "notify_teachings_disputed",
]
