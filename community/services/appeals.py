"""Appeals: an author whose teaching a resolution retired asks for a second look, once."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q

from community.models import (
    Appeal,
    AuditAction,
    NotificationKind,
    Resolution,
    Thread,
    ThreadStatus,
)
from community.selectors.teachings import teachings_by_ref
from community.services.audit import audit_record
from community.services.notifications import notify
from mola.errors import Conflict, InvalidInput, NotAllowed
from teaching.models import Membership, Role, Space
from teaching.services.access import check_member
from teaching.services.revisions import space_lock

MAX_REASON = 5000


def appeal_assignee(*, space: Space, resolution: Resolution, appellant) -> Membership | None:
    """The moderator who takes the second look: not the one who decided, not the appellant;
    among the others, the one with the fewest threads waiting on them (then the longest
    standing). None when the space has no such moderator: any moderator may answer."""
    return (
        Membership.objects.filter(space=space, role__in=[Role.MODERATOR, Role.OWNER])
        .exclude(user_id__in=[resolution.decided_by_id, appellant.pk])
        .annotate(
            waiting=Count(
                "user__threads",
                filter=Q(
                    user__threads__space=space,
                    user__threads__status=ThreadStatus.APPEALED,
                ),
                distinct=True,
            )
        )
        .select_related("user")
        .order_by("waiting", "role", "joined_at", "id")
        .first()
    )


def thread_appeal(*, thread: Thread, user, reason: str) -> Appeal:
    """Appeal the thread's latest resolution and reopen the thread for another moderator.

    Preconditions: the thread is resolved; that resolution retired a teaching ``user``
    authored; nobody appealed it yet (one appeal per resolution). Side effects: the thread
    becomes ``appealed`` and is assigned; its contradictions open again; the decider, the
    assignee and the participants are told; the audit log records it.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why you appeal.", code="required", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"At most {MAX_REASON} characters.", code="too_long", field="reason")
    with transaction.atomic():
        space = space_lock(space_id=thread.space_id)
        thread = Thread.objects.select_related("space").get(pk=thread.pk)
        check_member(space=space, user=user)
        resolution = thread.resolutions.order_by("-created_at", "-id").first()
        if thread.status != ThreadStatus.RESOLVED or resolution is None:
            raise Conflict("Only a resolved thread can be appealed.", code="not_resolved")
        retired = teachings_by_ref(space=space, refs=resolution.changes.get("retired", []))
        if user.pk not in {t.author_id for t in retired.values()}:
            raise NotAllowed(
                "Only an author whose teaching this resolution retired can appeal it.",
                code="not_affected",
            )
        if Appeal.objects.filter(resolution=resolution).exists():
            raise Conflict("This resolution was appealed already.", code="already_appealed")
        appeal = Appeal.objects.create(
            thread=thread, resolution=resolution, author=user, reason=reason
        )
        assignee = appeal_assignee(space=space, resolution=resolution, appellant=user)
        thread.status = ThreadStatus.APPEALED
        thread.assigned_to = assignee.user if assignee else None
        thread.resolved_at = None
        thread.save(update_fields=["status", "assigned_to", "resolved_at", "updated_at"])
        thread.participants.add(user.pk)
        _reopen_contradictions(thread=thread)
        audit_record(
            space=space,
            actor=user,
            action=AuditAction.APPEAL,
            target={"type": "thread", "id": thread.pk, "title": thread.title},
            note=reason,
            data={
                "resolution": resolution.pk,
                "decided_by": resolution.decided_by.username,
                "assigned_to": assignee.user.username if assignee else None,
            },
        )
        others = set(thread.participants.values_list("pk", flat=True)) | {resolution.decided_by_id}
        if assignee:
            notify(
                space=space,
                user_ids=[assignee.user_id],
                kind=NotificationKind.APPEAL,
                message=f"{user.username} appealed “{thread.title}”; it is assigned to you.",
                thread=thread,
                data={"appeal": appeal.pk},
                exclude=[user.pk],
            )
            others.discard(assignee.user_id)
        notify(
            space=space,
            user_ids=others,
            kind=NotificationKind.APPEAL,
            message=f"{user.username} appealed the resolution of “{thread.title}”.",
            thread=thread,
            data={"appeal": appeal.pk},
            exclude=[user.pk],
        )
    return appeal


def _reopen_contradictions(*, thread: Thread) -> None:
    from consensus.services import contradictions_reopen

    contradictions_reopen(thread=thread)
