"""Appeals: an author whose teaching a resolution retired asks for a second look, once.

An appeal reopens exactly the contradictions that resolution decided, except those with a
teaching that is out for another reason (rejected, or retired or changed since by someone
else): a second look at a decision, not at everything the thread ever held.
"""

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
from community.selectors.teachings import ref_key, teachings_by_ref
from community.services.audit import audit_record
from community.services.notifications import notify
from consensus import decisions as consensus_decisions
from mola.errors import Conflict, InvalidInput, NotAllowed
from teaching.models import LIVE_STATUSES, Membership, Role, Space, Status
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


def appealable_resolution(*, thread: Thread, user) -> Resolution:
    """The thread's latest resolution that retired a teaching ``user`` authored (409 when
    the thread has none; 403 when none retired theirs; 409 when it was appealed)."""
    resolutions = list(thread.resolutions.order_by("-created_at", "-id"))
    if not resolutions:
        raise Conflict("Only a resolved thread can be appealed.", code="not_resolved")
    for resolution in resolutions:
        retired = teachings_by_ref(space=thread.space, refs=resolution.changes.get("retired", []))
        if user.pk in {t.author_id for t in retired.values()}:
            break
    else:
        raise NotAllowed(
            "Only an author whose teaching this resolution retired can appeal it.",
            code="not_affected",
        )
    if Appeal.objects.filter(resolution=resolution).exists():
        raise Conflict("This resolution was appealed already.", code="already_appealed")
    return resolution


def reopenable(*, thread: Thread, resolution: Resolution) -> list[int]:
    """The contradictions ``resolution`` decided that an appeal opens again: still closed,
    not decided again by a later resolution, and every teaching of each either live or
    retired by this resolution and unchanged since (not rejected, nor retired for another
    reason)."""
    later = thread.resolutions.filter(created_at__gte=resolution.created_at).exclude(
        pk=resolution.pk
    )
    redecided = {pk for r in later for pk in r.contradictions}
    disputes = consensus_decisions.disputes_get(
        space=thread.space, ids=[pk for pk in resolution.contradictions if pk not in redecided]
    )
    refs = {ref for d in disputes for ref in d.teachings}
    found = teachings_by_ref(space=thread.space, refs=refs)
    retired_here = {ref_key(r) for r in resolution.changes.get("retired", [])}

    def back_in_question(ref) -> bool:
        teaching = found.get(ref)
        if teaching is None:
            return False
        if teaching.status in LIVE_STATUSES:
            return True
        return (
            ref in retired_here
            and teaching.status == Status.RETIRED
            and teaching.revision == resolution.teaching_revision
        )

    return [d.id for d in disputes if not d.open and all(back_in_question(r) for r in d.teachings)]


def thread_appeal(*, thread: Thread, user, reason: str) -> Appeal:
    """Appeal the latest resolution of the thread that retired a teaching of ``user``.

    Side effects: the thread becomes ``appealed`` and is assigned; the contradictions that
    resolution decided open again (see ``reopenable``); the decider, the assignee and the
    participants are told; the audit log records it. One appeal per resolution.
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
        resolution = appealable_resolution(thread=thread, user=user)
        appeal = Appeal.objects.create(
            thread=thread, resolution=resolution, author=user, reason=reason
        )
        assignee = appeal_assignee(space=space, resolution=resolution, appellant=user)
        thread.status = ThreadStatus.APPEALED
        thread.assigned_to = assignee.user if assignee else None
        thread.resolved_at = None
        thread.save(update_fields=["status", "assigned_to", "resolved_at", "updated_at"])
        thread.participants.add(user.pk)
        reopened = consensus_decisions.contradictions_reopen(
            space=space,
            ids=reopenable(thread=thread, resolution=resolution),
            note=f"Opened again by {user.username}'s appeal.",
        )
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
                "reopened": sorted(reopened),
            },
        )
        _tell(thread=thread, appeal=appeal, resolution=resolution, assignee=assignee)
    return appeal


def _tell(
    *, thread: Thread, appeal: Appeal, resolution: Resolution, assignee: Membership | None
) -> None:
    user = appeal.author
    others = set(thread.participants.values_list("pk", flat=True)) | {resolution.decided_by_id}
    if assignee:
        notify(
            space=thread.space,
            user_ids=[assignee.user_id],
            kind=NotificationKind.APPEAL,
            message=f"{user.username} appealed “{thread.title}”; it is assigned to you.",
            thread=thread,
            data={"appeal": appeal.pk},
            exclude=[user.pk],
        )
        others.discard(assignee.user_id)
    notify(
        space=thread.space,
        user_ids=others,
        kind=NotificationKind.APPEAL,
        message=f"{user.username} appealed the resolution of “{thread.title}”.",
        thread=thread,
        data={"appeal": appeal.pk},
        exclude=[user.pk],
    )
