"""A moderator resolves a thread: one transaction applies the outcome to the teachings,
records who decided and why, closes the thread's contradictions and (through the teaching
revision it commits) schedules the retrain.

Outcomes:

- ``prefer``      retire the teachings in ``retire``; the others stay.
- ``precedence``  keep every rule; where their regions overlap the first rule in ``order``
                  wins over the later ones (``RulePrecedence`` rows the trainer honours).
- ``scope``       the authors narrowed their teachings; record those edits (the thread's
                  teachings' revisions since it opened) as what settled it.
- ``merge``       join concepts or rules into the one in ``keep``: the others are retired,
                  and for concepts every live definition or condition naming them is
                  rewritten to the kept name.
- ``dismiss``     accept the disagreement as deliberate.

Whatever the outcome, a teaching in ``keep`` that is retired (an earlier resolution of the
thread retired it, and its author appealed) is restored to its last live revision. A
resolution never deletes a teaching.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from community.models import (
    AuditAction,
    NotificationKind,
    Resolution,
    Thread,
    ThreadStatus,
)
from community.selectors.teachings import ref_dict, ref_key, teachings_by_ref
from community.services.audit import audit_record
from community.services.merging import concept_references_rewrite
from community.services.notifications import notify
from mola.errors import Conflict, InvalidInput, NotAllowed
from teaching.models import (
    LIVE_STATUSES,
    Action,
    Membership,
    Role,
    Space,
    Status,
    Teaching,
    TeachingRevision,
)
from teaching.services.access import check_moderator
from teaching.services.common import commit_change
from teaching.services.concepts import concept_dependents
from teaching.services.history import teaching_revert
from teaching.services.precedence import precedence_record
from teaching.services.revisions import space_lock

OUTCOMES = ("prefer", "precedence", "scope", "merge", "dismiss")
Ref = tuple[str, int]


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


def _check_second_look(*, thread: Thread, space: Space, user) -> None:
    """An appealed thread is answered by another moderator than the one who decided it,
    when the space has another; a space with a single moderator still gets an answer."""
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


def _retire(*, space: Space, teachings: list[Teaching]) -> None:
    for teaching in teachings:
        if teaching.status not in LIVE_STATUSES:
            raise Conflict(
                f"{teaching.kind} #{teaching.pk} is {teaching.status} already.",
                code="not_live",
                field="retire",
            )
    retiring = {(t.kind, t.pk) for t in teachings}
    for teaching in teachings:
        if teaching.kind == "concept":
            users = [
                d
                for d in concept_dependents(space=space, name=teaching.name)
                if (d["type"], d["id"]) not in retiring
            ]
            if users:
                raise Conflict(
                    f"Concept {teaching.name!r} is used by other teachings; merge it, or change "
                    "them first.",
                    code="concept_in_use",
                    field="retire",
                    teachings=users,
                )
    for teaching in teachings:
        teaching.status = Status.RETIRED
        teaching.save(update_fields=["status", "updated_at"])


def _scope_edits(*, space: Space, thread: Thread) -> list[dict[str, Any]]:
    """The edits made to the thread's teachings since it opened."""
    edits = []
    for ref in thread.teachings:
        kind, pk = ref_key(ref)
        for rev in TeachingRevision.objects.filter(
            space=space,
            kind=kind,
            teaching_id=pk,
            created_at__gte=thread.created_at,
            action__in=[Action.EDIT, Action.REVERT],
        ).select_related("author"):
            edits.append(
                {
                    "type": kind,
                    "id": pk,
                    "revision": rev.revision,
                    "action": rev.action,
                    "author": rev.author.username,
                }
            )
    return sorted(edits, key=lambda e: e["revision"])


def _merge_plan(
    *, found: dict[Ref, Teaching], keep: list[Ref], retire: list[Ref]
) -> tuple[Teaching, list[Teaching]]:
    if len(keep) != 1:
        raise InvalidInput("A merge keeps exactly one teaching.", code="keep_one", field="keep")
    kept = found[keep[0]]
    if kept.kind not in ("concept", "rule"):
        raise InvalidInput("Merge joins concepts or rules.", code="not_mergeable", field="keep")
    if retire:
        merged = [found[ref] for ref in retire]
    else:
        merged = [
            t
            for ref, t in found.items()
            if ref != keep[0] and t.kind == kept.kind and t.status in LIVE_STATUSES
        ]
    if not merged:
        raise InvalidInput(
            "Nothing to merge into the kept teaching.", code="required", field="retire"
        )
    if any(t.kind != kept.kind for t in merged):
        raise InvalidInput("Merge joins teachings of one kind.", code="mixed_kinds", field="retire")
    return kept, merged


def thread_resolve(
    *,
    thread: Thread,
    user,
    outcome: str,
    note: str,
    keep: list[dict[str, Any]] | None = None,
    retire: list[dict[str, Any]] | None = None,
    order: list[dict[str, Any]] | None = None,
) -> tuple[Resolution, int]:
    """Resolve ``thread`` as a moderator of its space decided; returns the resolution and
    the space's teaching revision after it.

    Preconditions: ``user`` moderates the space; the thread is open or appealed (an
    appealed thread by another moderator than the one who decided, where there is one);
    ``keep``/``retire``/``order`` name teachings of the thread. All or nothing.
    """
    if outcome not in OUTCOMES:
        raise InvalidInput(
            f"outcome is one of {', '.join(OUTCOMES)}.", code="invalid_choice", field="outcome"
        )
    if not note.strip():
        raise InvalidInput("Say why: the note is required.", code="required", field="note")
    with transaction.atomic():
        space = space_lock(space_id=thread.space_id)
        thread = Thread.objects.select_related("space").get(pk=thread.pk)
        check_moderator(space=space, user=user)
        if thread.status == ThreadStatus.RESOLVED:
            raise Conflict("This thread is resolved already.", code="thread_resolved")
        _check_second_look(thread=thread, space=space, user=user)
        keep_refs = _refs(keep, field="keep", thread=thread)
        retire_refs = _refs(retire, field="retire", thread=thread)
        order_refs = _refs(order, field="order", thread=thread)
        if set(keep_refs) & set(retire_refs):
            raise InvalidInput(
                "A teaching cannot be both kept and retired.", code="keep_and_retire", field="keep"
            )
        found = teachings_by_ref(space=space, refs=thread.teachings)
        changes: dict[str, Any] = {}

        restored = [
            _restore(space=space, user=user, teaching=found[ref])
            for ref in keep_refs
            if ref in found and found[ref].status not in LIVE_STATUSES
        ]
        if restored:
            changes["restored"] = [ref_dict((t.kind, t.pk)) for t in restored]
            found = teachings_by_ref(space=space, refs=thread.teachings)

        to_retire: list[Teaching] = []
        if outcome == "prefer":
            if not retire_refs:
                raise InvalidInput("Name the teachings to retire.", code="required", field="retire")
            to_retire = [found[ref] for ref in retire_refs]
        elif outcome == "precedence":
            if len(order_refs) < 2 or any(kind != "rule" for kind, _ in order_refs):
                raise InvalidInput(
                    "Precedence orders two or more rules of the thread, the winner first.",
                    code="invalid_order",
                    field="order",
                )
            precedence_record(
                space=space, user=user, order=[pk for _, pk in order_refs], reason=note
            )
            ids = [pk for _, pk in order_refs]
            changes["precedences"] = [
                [ref_dict(("rule", w)), ref_dict(("rule", lo))]
                for i, w in enumerate(ids)
                for lo in ids[i + 1 :]
            ]
        elif outcome == "scope":
            edits = _scope_edits(space=space, thread=thread)
            if not edits:
                raise Conflict(
                    "No teaching of this thread was edited since it opened; narrow them first, "
                    "or choose another outcome.",
                    code="no_scope_edits",
                    field="outcome",
                )
            changes["edits"] = edits
        elif outcome == "merge":
            kept, to_retire = _merge_plan(found=found, keep=keep_refs, retire=retire_refs)
            if kept.kind == "concept":
                rewritten = concept_references_rewrite(
                    space=space, user=user, merged=to_retire, kept=kept
                )
                changes["rewritten"] = [ref_dict((t.kind, t.pk)) for t in rewritten]
            changes["merged_into"] = ref_dict((kept.kind, kept.pk))

        # The outcome's own writes (restores, rewrites) changed rows: work on fresh copies,
        # since a revision records the teaching's content as it is in memory.
        found = teachings_by_ref(space=space, refs=thread.teachings)
        to_retire = [found[(t.kind, t.pk)] for t in to_retire]
        _retire(space=space, teachings=to_retire)
        if to_retire:
            changes["retired"] = [ref_dict((t.kind, t.pk)) for t in to_retire]
        retired_now = {(t.kind, t.pk) for t in to_retire}
        # One RESOLVE revision over every teaching the decision touches: the retired ones
        # and the thread's live ones, so each history shows the decision and the model
        # retrains (on commit) from a revision that includes it.
        touched = to_retire + [
            t for ref, t in found.items() if ref not in retired_now and t.status in LIVE_STATUSES
        ]
        revision = commit_change(
            space=space,
            teachings=touched,
            action=Action.RESOLVE,
            author=user,
            note=f"thread #{thread.pk} resolved ({outcome}): {note.strip()}",
        )
        resolution = Resolution.objects.create(
            thread=thread,
            outcome=outcome,
            keep=[ref_dict(r) for r in keep_refs],
            retire=[ref_dict(r) for r in retire_refs],
            order=[ref_dict(r) for r in order_refs],
            note=note.strip(),
            decided_by=user,
            teaching_revision=revision,
            changes=changes,
        )
        thread.status = ThreadStatus.RESOLVED
        thread.resolved_at = timezone.now()
        thread.save(update_fields=["status", "resolved_at", "updated_at"])
        _close_contradictions(thread=thread, outcome=outcome, note=note.strip())
        audit_record(
            space=space,
            actor=user,
            action=AuditAction.RESOLVE,
            target={"type": "thread", "id": thread.pk, "title": thread.title},
            note=note.strip(),
            data={"outcome": outcome, "changes": changes, "teaching_revision": revision},
        )
        _tell(thread=thread, resolution=resolution, found=found)
    return resolution, revision


def _close_contradictions(*, thread: Thread, outcome: str, note: str) -> None:
    from consensus import services as consensus_services

    close = getattr(consensus_services, "contradictions_close", None)
    if close is not None:  # absent only while the consensus app is being written
        close(thread=thread, status="dismissed" if outcome == "dismiss" else "resolved", note=note)


def _tell(*, thread: Thread, resolution: Resolution, found: dict[Ref, Teaching]) -> None:
    retired = {ref_key(r) for r in resolution.changes.get("retired", [])}
    authors = {t.author_id for t in found.values()}
    participants = set(thread.participants.values_list("pk", flat=True))
    for author_id in authors | participants:
        lost = sorted(
            f"{k} #{pk}"
            for (k, pk), t in found.items()
            if (k, pk) in retired and t.author_id == author_id
        )
        message = (
            f"{resolution.decided_by.username} resolved “{thread.title}” ({resolution.outcome})."
        )
        if lost:
            message += f" Your {', '.join(lost)} was retired; you may appeal once."
        notify(
            space=thread.space,
            user_ids=[author_id],
            kind=NotificationKind.RESOLUTION,
            message=message,
            thread=thread,
            data={"resolution": resolution.pk, "outcome": resolution.outcome, "retired": lost},
            exclude=[resolution.decided_by_id],
        )
