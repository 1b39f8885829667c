"""A moderator resolves disputes of a thread: one transaction applies the outcome to the
teachings (``community.services.outcomes``), records who decided and why, closes exactly
the contradictions it decided and (through the teaching revision it commits) schedules
the retrain.

A dispute (a contradiction) is the unit of decision. A resolution decides the
contradictions it names, or by default those between the teachings it names in
keep / retire / order plus every one of a teaching it retires; the thread's other
contradictions stay open, and the thread stays open while any does.

Whatever the outcome, a teaching in ``keep`` that is retired (an earlier resolution of the
thread retired it, and its author appealed) is restored to its last live revision. A
resolution never deletes a teaching.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from community.models import AuditAction, NotificationKind, Resolution, Thread, ThreadStatus
from community.selectors.teachings import ref_dict, ref_key, teachings_by_ref
from community.services.audit import audit_record
from community.services.notifications import notify
from community.services.outcomes import APPLY, OUTCOMES, Decision, merged_teachings
from consensus import decisions as consensus_decisions
from mola.errors import Conflict, InvalidInput, NotAllowed
from teaching.models import LIVE_STATUSES, Membership, Role, Space, Teaching, TeachingRevision
from teaching.services.access import check_moderator
from teaching.services.decisions import teachings_retire_decided
from teaching.services.history import teaching_revert
from teaching.services.revisions import space_lock

Ref = tuple[str, int]
MAX_NOTE = 5000


def resolve_authorize(*, thread: Thread, user) -> None:
    """Only a moderator of the thread's space resolves it (403 before any validation)."""
    check_moderator(space=thread.space, user=user)


def _refs(refs: list[dict[str, Any]] | None, *, field: str, thread: Thread) -> list[Ref]:
    """Refs given for ``field``, each a teaching of the thread, each once."""
    keys = [ref_key(ref) for ref in refs or []]
    if len(set(keys)) != len(keys):
        raise InvalidInput("A teaching is named twice.", code="duplicate", field=field)
    in_thread = {ref_key(ref) for ref in thread.teachings}
    outside = [f"{kind} #{pk}" for kind, pk in keys if (kind, pk) not in in_thread]
    if outside:
        raise InvalidInput(
            f"Not a teaching of this thread: {', '.join(outside)}.",
            code="not_in_thread",
            field=field,
        )
    return keys


def decision_read(
    *,
    space: Space,
    thread: Thread,
    user,
    outcome: str,
    note: str,
    keep: list[dict[str, Any]] | None = None,
    retire: list[dict[str, Any]] | None = None,
    order: list[dict[str, Any]] | None = None,
) -> Decision:
    """The request checked against the thread (400 naming the field), before any write."""
    if outcome not in OUTCOMES:
        raise InvalidInput(
            f"outcome is one of {', '.join(OUTCOMES)}.", code="invalid_choice", field="outcome"
        )
    if not note.strip():
        raise InvalidInput("Say why: the note is required.", code="required", field="note")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"At most {MAX_NOTE} characters.", code="too_long", field="note")
    keep_refs = _refs(keep, field="keep", thread=thread)
    retire_refs = _refs(retire, field="retire", thread=thread)
    order_refs = _refs(order, field="order", thread=thread)
    if set(keep_refs) & set(retire_refs):
        raise InvalidInput(
            "A teaching cannot be both kept and retired.", code="keep_and_retire", field="keep"
        )
    return Decision(
        space=space,
        thread=thread,
        user=user,
        outcome=outcome,
        note=note.strip(),
        keep=keep_refs,
        retire=retire_refs,
        order=order_refs,
        found=teachings_by_ref(space=space, refs=thread.teachings),
    )


def decided_contradictions(
    *, decision: Decision, contradictions: list[int] | None
) -> list[consensus_decisions.Dispute]:
    """The open contradictions of the thread this decision decides: exactly those named in
    ``contradictions`` (each an open contradiction of the thread), or by default those
    between the teachings it names and every one of a teaching it retires. 400 when it
    would decide none while some are open."""
    disputes = consensus_decisions.thread_disputes(thread_id=decision.thread.pk)
    still_open = [d for d in disputes if d.open]
    if contradictions is not None:
        if len(set(contradictions)) != len(contradictions):
            raise InvalidInput(
                "A contradiction is named twice.", code="duplicate", field="contradictions"
            )
        by_id = {d.id: d for d in disputes}
        outside = [pk for pk in contradictions if pk not in by_id]
        if outside:
            raise InvalidInput(
                f"Not a contradiction of this thread: {', '.join(f'#{pk}' for pk in outside)}.",
                code="not_in_thread",
                field="contradictions",
            )
        closed = [pk for pk in contradictions if not by_id[pk].open]
        if closed:
            raise InvalidInput(
                f"Not open: {', '.join(f'#{pk}' for pk in closed)}.",
                code="not_open",
                field="contradictions",
            )
        chosen = set(contradictions)
        return [d for d in still_open if d.id in chosen]
    retiring = set(retiring_refs(decision))
    named = set(decision.keep) | set(decision.order) | retiring
    decided = [d for d in still_open if set(d.teachings) <= named or set(d.teachings) & retiring]
    if still_open and not decided:
        raise InvalidInput(
            "This decision names no open contradiction of the thread: name them in "
            "contradictions, or the teachings they are between in keep, retire or order.",
            code="nothing_decided",
            field="contradictions",
        )
    return decided


def retiring_refs(decision: Decision) -> list[Ref]:
    if decision.outcome == "prefer":
        return decision.retire
    if decision.outcome == "merge":
        return merged_teachings(found=decision.found, keep=decision.keep, retire=decision.retire)
    return []


def check_resolvable(*, thread: Thread, space: Space, user) -> None:
    """The thread is open or appealed; an appealed thread is answered by another moderator
    than the one who decided, when the space has another (a single moderator answers)."""
    if thread.status == ThreadStatus.RESOLVED:
        raise Conflict("This thread is resolved already.", code="thread_resolved")
    if thread.status != ThreadStatus.APPEALED:
        return
    previous = thread.resolutions.order_by("-created_at", "-id").first()
    if previous is None or previous.decided_by_id != user.pk:
        return
    others = (
        Membership.objects.filter(space=space, role__in=[Role.MODERATOR, Role.OWNER])
        .exclude(user_id=user.pk)
        .exists()
    )
    if others:
        raise NotAllowed(
            "You decided this thread; its appeal goes to another moderator.",
            code="decided_before",
        )


def _restore(*, space: Space, user, teaching: Teaching) -> Teaching:
    """Bring a retired teaching back as it was at its last live revision."""
    last_live = next(
        (
            rev.revision
            for rev in TeachingRevision.objects.filter(
                space=space, kind=teaching.kind, teaching_id=teaching.pk
            ).order_by("-revision", "-id")
            if rev.content.get("status") in LIVE_STATUSES
        ),
        None,
    )
    if last_live is None:
        raise Conflict(
            f"{teaching.kind} #{teaching.pk} was never live; it cannot be restored.",
            code="not_restorable",
            field="keep",
        )
    restored, _ = teaching_revert(
        space=space, kind=teaching.kind, teaching_id=teaching.pk, user=user, revision=last_live
    )
    return restored


def thread_resolve(
    *,
    thread: Thread,
    user,
    outcome: str,
    note: str,
    keep: list[dict[str, Any]] | None = None,
    retire: list[dict[str, Any]] | None = None,
    order: list[dict[str, Any]] | None = None,
    contradictions: list[int] | None = None,
) -> tuple[Resolution, int]:
    """Decide disputes of ``thread`` as a moderator of its space; returns the resolution and
    the space's teaching revision after it.

    Preconditions: ``user`` moderates the space (checked first: 403 before any 400); the
    thread is open or appealed (see ``check_resolvable``); ``keep``/``retire``/``order``
    name teachings of the thread, ``contradictions`` open contradictions of it. All or
    nothing. The thread resolves once none of its contradictions is open.
    """
    with transaction.atomic():
        space = space_lock(space_id=thread.space_id)
        thread = Thread.objects.select_related("space").get(pk=thread.pk)
        check_moderator(space=space, user=user)
        check_resolvable(thread=thread, space=space, user=user)
        decision = decision_read(
            space=space, thread=thread, user=user, outcome=outcome, note=note,
            keep=keep, retire=retire, order=order,
        )  # fmt: skip
        decided = decided_contradictions(decision=decision, contradictions=contradictions)
        changes, found, to_retire = _apply(decision)
        # One RESOLVE revision over every teaching the decision touches: the retired ones
        # and the thread's live ones, so each history shows the decision and the model
        # retrains (on commit) from a revision that includes it.
        revision = teachings_retire_decided(
            space=space,
            retire=to_retire,
            touched=[t for t in found.values() if t.status in LIVE_STATUSES],
            user=user,
            reason=decision.note,
            by_resolution=f"thread #{thread.pk} resolved ({outcome})",
        )
        closed = consensus_decisions.contradictions_decide(
            space=space,
            ids=[d.id for d in decided],
            status="dismissed" if outcome == "dismiss" else "resolved",
            note=decision.note,
        )
        resolution = Resolution.objects.create(
            thread=thread,
            outcome=outcome,
            keep=[ref_dict(r) for r in decision.keep],
            retire=[ref_dict(r) for r in decision.retire],
            order=[ref_dict(r) for r in decision.order],
            contradictions=sorted(closed),
            note=decision.note,
            decided_by=user,
            teaching_revision=revision,
            changes=changes,
        )
        still_open = _settle(thread)
        audit_record(
            space=space,
            actor=user,
            action=AuditAction.RESOLVE,
            target={"type": "thread", "id": thread.pk, "title": thread.title},
            note=decision.note,
            data={
                "outcome": outcome,
                "changes": changes,
                "teaching_revision": revision,
                "contradictions": resolution.contradictions,
                "still_open": still_open,
            },
        )
        _tell(thread=thread, resolution=resolution, found=found, still_open=still_open)
    return resolution, revision


def _apply(decision: Decision) -> tuple[dict[str, Any], dict[Ref, Teaching], list[Teaching]]:
    """Restore the kept teachings that are retired, then apply the outcome; returns what
    changed, the thread's teachings afresh, and those to retire."""
    space, thread = decision.space, decision.thread
    changes: dict[str, Any] = {}
    restored = [
        _restore(space=space, user=decision.user, teaching=decision.found[ref])
        for ref in decision.keep
        if ref in decision.found and decision.found[ref].status not in LIVE_STATUSES
    ]
    if restored:
        changes["restored"] = [ref_dict((t.kind, t.pk)) for t in restored]
        decision.found = teachings_by_ref(space=space, refs=thread.teachings)
    applied = APPLY[decision.outcome](decision)
    changes.update(applied.changes)
    # The outcome's own writes (restores, rewrites) changed rows: work on fresh copies,
    # since a revision records the teaching's content as it is in memory.
    found = teachings_by_ref(space=space, refs=thread.teachings)
    to_retire = [found[(t.kind, t.pk)] for t in applied.retire]
    if to_retire:
        changes["retired"] = [ref_dict((t.kind, t.pk)) for t in to_retire]
    return changes, found, to_retire


def _settle(thread: Thread) -> int:
    """Resolve the thread when none of its contradictions is open; else it stays open (an
    appealed thread is answered: open again). Returns how many are still open."""
    still_open = consensus_decisions.thread_open_count(thread_id=thread.pk)
    if still_open:
        thread.status, thread.resolved_at = ThreadStatus.OPEN, None
    else:
        thread.status, thread.resolved_at = ThreadStatus.RESOLVED, timezone.now()
    thread.save(update_fields=["status", "resolved_at", "updated_at"])
    return still_open


def _tell(
    *, thread: Thread, resolution: Resolution, found: dict[Ref, Teaching], still_open: int
) -> None:
    retired = {ref_key(r) for r in resolution.changes.get("retired", [])}
    authors = {t.author_id for t in found.values()}
    participants = set(thread.participants.values_list("pk", flat=True))
    decided = len(resolution.contradictions)
    what = f"{decided} dispute{'s' if decided != 1 else ''}"
    rest = f"; {still_open} still open" if still_open else ""
    for author_id in authors | participants:
        lost = sorted(
            f"{k} #{pk}"
            for (k, pk), t in found.items()
            if (k, pk) in retired and t.author_id == author_id
        )
        message = (
            f"{resolution.decided_by.username} decided {what} of “{thread.title}” "
            f"({resolution.outcome}){rest}."
        )
        if lost:
            message += f" Your {', '.join(lost)} was retired; you may appeal once."
        notify(
            space=thread.space,
            user_ids=[author_id],
            kind=NotificationKind.RESOLUTION,
            message=message,
            thread=thread,
            data={
                "resolution": resolution.pk,
                "outcome": resolution.outcome,
                "retired": lost,
                "contradictions": resolution.contradictions,
            },
            exclude=[resolution.decided_by_id],
        )
