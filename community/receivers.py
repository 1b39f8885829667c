"""The community app's answers to what the apps below it announce (``teaching/signals.py``,
``consensus/signals.py``); connected in ``CommunityConfig.ready``."""

from __future__ import annotations

from django.dispatch import receiver

from community.selectors.teachings import teachings_by_ref
from community.services.audit import audit_record
from community.services.credit import record_predictions
from community.services.notifications import notify_reviewed, notify_teachings_disputed
from community.services.threads import threads_open_for_disputes
from consensus.signals import disputes_grouped, disputes_opened
from teaching.signals import decision_taken, predictions_explained


@receiver(decision_taken, dispatch_uid="community.audit")
def record_decision(sender, *, space, actor, action, target, note, data, **_) -> None:
    audit_record(space=space, actor=actor, action=action, target=target, note=note, data=data)
    if action in ("endorse", "reject") and target:
        _tell_reviewed_author(space=space, actor=actor, action=action, target=target, note=note)


def _tell_reviewed_author(*, space, actor, action, target, note) -> None:
    """An endorsement or rejection reaches the proposal's author (in the same transaction)."""
    ref = (target["type"], int(target["id"]))
    teaching = teachings_by_ref(space=space, refs=[ref]).get(ref)
    if teaching is not None:
        notify_reviewed(
            space=space, kind=ref[0], teaching_id=ref[1], author_id=teaching.author_id,
            actor=actor, action=action, note=note or "",
        )  # fmt: skip


@receiver(predictions_explained, dispatch_uid="community.credit")
def count_credit(sender, *, space_id, contributors, **_) -> None:
    record_predictions(space_id, contributors)


@receiver(disputes_grouped, dispatch_uid="community.dispute_threads")
def open_dispute_threads(sender, *, space, groups, **_) -> None:
    threads_open_for_disputes(space=space, groups=groups)


@receiver(disputes_opened, dispatch_uid="community.disputed")
def tell_disputed_authors(sender, *, space, contradictions, **_) -> None:
    notify_teachings_disputed(space, contradictions)
