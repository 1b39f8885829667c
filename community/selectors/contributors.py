"""Credit per member: what they taught, how resolutions went for them, how much of what
the model answered came from them, and the reputation that sums it up.

Reputation (README, "Reputation")::

    reputation = max(0, 10·accepted + 20·in_favour − 10·against
                        − 5·rejected − 5·rolled_back + round(100·share))

accepted    teachings of theirs that are active (the model uses them)
in_favour   resolutions that kept a teaching of theirs (keep, precedence winner, merge
            target, restored on appeal; for ``prefer`` every teaching not retired)
against     teachings of theirs a resolution retired
rejected    teachings of theirs a reviewer rejected
rolled_back teachings of theirs a moderator's rollback retired
share       of the predictions in the credit window, the fraction whose explanation used
            a teaching of theirs
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.db.models import Count

from community.models import Resolution
from community.selectors.credit import prediction_counts
from community.selectors.teachings import ref_key, teachings_by_ref
from community.services.credit import window_hours
from teaching.models import (
    TEACHING_MODELS,
    Action,
    Membership,
    ModelStatus,
    ModelVersion,
    Space,
    Status,
    TeachingRevision,
)


def reputation(
    *, accepted: int, in_favour: int, against: int, rejected: int, rolled_back: int, share: float
) -> int:
    score = 10 * accepted + 20 * in_favour - 10 * against - 5 * rejected - 5 * rolled_back
    return max(0, score + round(100 * share))


def _status_counts(space: Space) -> dict[int, Counter]:
    counts: dict[int, Counter] = defaultdict(Counter)
    for model in TEACHING_MODELS.values():
        for row in (
            model.objects.filter(space=space).values("author_id", "status").annotate(n=Count("id"))
        ):
            counts[row["author_id"]][row["status"]] += row["n"]
    return counts


def _resolution_credit(space: Space) -> tuple[Counter, Counter]:
    """Per author id: resolutions in their favour, teachings of theirs retired by one."""
    resolutions = list(Resolution.objects.filter(thread__space=space).select_related("thread"))
    refs = {ref_key(r) for res in resolutions for r in res.thread.teachings}
    authors = {ref: t.author_id for ref, t in teachings_by_ref(space=space, refs=refs).items()}
    favour: Counter = Counter()
    against: Counter = Counter()
    for res in resolutions:
        retired = {ref_key(r) for r in res.changes.get("retired", [])}
        kept = {ref_key(r) for r in res.keep} | {
            ref_key(r) for r in res.changes.get("restored", [])
        }
        if res.order:
            kept.add(ref_key(res.order[0]))
        if res.changes.get("merged_into"):
            kept.add(ref_key(res.changes["merged_into"]))
        if res.outcome == "prefer":
            kept |= {ref_key(r) for r in res.thread.teachings} - retired
        for author in {authors[ref] for ref in kept if ref in authors}:
            favour[author] += 1
        for ref in retired:
            if ref in authors:
                against[authors[ref]] += 1
    return favour, against


def _rolled_back(space: Space) -> Counter:
    retired = {
        (kind, pk)
        for kind, pk, content in TeachingRevision.objects.filter(
            space=space, action=Action.ROLLBACK
        ).values_list("kind", "teaching_id", "content")
        if content.get("status") == Status.RETIRED
    }
    found = teachings_by_ref(space=space, refs=retired)
    return Counter(t.author_id for t in found.values() if t.status == Status.RETIRED)


def contributor_list(*, space: Space) -> dict[str, Any]:
    """Every member's credit, highest reputation first, with the window it covers."""
    members = list(Membership.objects.filter(space=space).select_related("user"))
    statuses = _status_counts(space)
    favour, against = _resolution_credit(space)
    rolled_back = _rolled_back(space)
    total, predicted = prediction_counts(
        space_id=space.pk, usernames=[m.user.username for m in members]
    )
    serving = (
        ModelVersion.objects.filter(space=space, status=ModelStatus.READY)
        .order_by("-teaching_revision", "-version")
        .first()
    )
    in_model = set(serving.contributors) if serving else set()
    items = []
    for member in members:
        counts = statuses.get(member.user_id, Counter())
        name = member.user.username
        share = predicted.get(name, 0) / total if total else 0.0
        item = {
            "username": name,
            "role": member.role,
            "expertise": member.expertise,
            "expertise_verified": member.expertise_verified_by_id is not None,
            "teachings": {
                "active": counts[Status.ACTIVE],
                "proposed": counts[Status.PROPOSED],
                "retired": counts[Status.RETIRED],
                "rejected": counts[Status.REJECTED],
                "total": sum(counts.values()),
            },
            "accepted": counts[Status.ACTIVE],
            "resolutions_in_favour": favour[member.user_id],
            "resolutions_against": against[member.user_id],
            "rolled_back": rolled_back[member.user_id],
            "predictions": predicted.get(name, 0),
            "share": round(share, 4),
            "in_model": name in in_model,
        }
        item["reputation"] = reputation(
            accepted=item["accepted"],
            in_favour=item["resolutions_in_favour"],
            against=item["resolutions_against"],
            rejected=counts[Status.REJECTED],
            rolled_back=item["rolled_back"],
            share=share,
        )
        items.append(item)
    items.sort(key=lambda i: (-i["reputation"], i["username"]))
    return {
        "window_hours": window_hours(),
        "predictions": total,
        "model_version": serving.version if serving else None,
        "contributors": items,
    }
