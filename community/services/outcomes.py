"""What each outcome of a resolution does to the thread's teachings, one function per
outcome. Each returns the teachings to retire and what it changed; ``thread_resolve``
retires them, records the revision and closes the contradictions decided.

- ``prefer``      retire the teachings in ``retire``; the others stay.
- ``precedence``  keep every rule; where their regions overlap the first rule in ``order``
                  wins over the later ones (``RulePrecedence`` rows the trainer honours).
- ``scope``       the authors narrowed their teachings; record those edits (the thread's
                  teachings' revisions since it opened) as what settled it.
- ``merge``       join concepts or rules into the one in ``keep``: the others are retired,
                  and for concepts every live definition or condition naming them is
                  rewritten to the kept name.
- ``dismiss``     accept the disagreement as deliberate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from community.models import Thread
from community.selectors.teachings import ref_dict, ref_key
from community.services.merging import concept_references_rewrite
from mola.errors import Conflict, InvalidInput
from teaching.models import LIVE_STATUSES, Action, Space, Teaching, TeachingRevision
from teaching.services.precedence import precedence_record

Ref = tuple[str, int]


@dataclass
class Decision:
    """A resolution being applied: the validated request and the thread's teachings."""

    space: Space
    thread: Thread
    user: Any
    outcome: str
    note: str
    keep: list[Ref]
    retire: list[Ref]
    order: list[Ref]
    found: dict[Ref, Teaching]  # the thread's teachings, fresh


@dataclass
class Applied:
    retire: list[Teaching] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)


def prefer(decision: Decision) -> Applied:
    if not decision.retire:
        raise InvalidInput("Name the teachings to retire.", code="required", field="retire")
    return Applied(retire=[decision.found[ref] for ref in decision.retire])


def precedence(decision: Decision) -> Applied:
    order = decision.order
    if len(order) < 2 or any(kind != "rule" for kind, _ in order):
        raise InvalidInput(
            "Precedence orders two or more rules of the thread, the winner first.",
            code="invalid_order",
            field="order",
        )
    ids = [pk for _, pk in order]
    precedence_record(space=decision.space, user=decision.user, order=ids, reason=decision.note)
    pairs = [
        [ref_dict(("rule", w)), ref_dict(("rule", lo))]
        for i, w in enumerate(ids)
        for lo in ids[i + 1 :]
    ]
    return Applied(changes={"precedences": pairs})


def scope(decision: Decision) -> Applied:
    edits = scope_edits(space=decision.space, thread=decision.thread)
    if not edits:
        raise Conflict(
            "No teaching of this thread was edited since it opened; narrow them first, "
            "or choose another outcome.",
            code="no_scope_edits",
            field="outcome",
        )
    return Applied(changes={"edits": edits})


def merge(decision: Decision) -> Applied:
    kept, merged = _merge_plan(found=decision.found, keep=decision.keep, retire=decision.retire)
    changes: dict[str, Any] = {}
    if kept.kind == "concept":
        rewritten = concept_references_rewrite(
            space=decision.space, user=decision.user, merged=merged, kept=kept
        )
        changes["rewritten"] = [ref_dict((t.kind, t.pk)) for t in rewritten]
    changes["merged_into"] = ref_dict((kept.kind, kept.pk))
    return Applied(retire=merged, changes=changes)


def dismiss(decision: Decision) -> Applied:
    return Applied()


APPLY: dict[str, Callable[[Decision], Applied]] = {
    "prefer": prefer,
    "precedence": precedence,
    "scope": scope,
    "merge": merge,
    "dismiss": dismiss,
}
OUTCOMES = tuple(APPLY)


def scope_edits(*, space: Space, thread: Thread) -> list[dict[str, Any]]:
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


def merged_teachings(
    *, found: dict[Ref, Teaching], keep: list[Ref], retire: list[Ref]
) -> list[Ref]:
    """The refs a merge retires (validated by ``_merge_plan``; [] when it is invalid)."""
    try:
        return [(t.kind, t.pk) for t in _merge_plan(found=found, keep=keep, retire=retire)[1]]
    except InvalidInput:
        return []


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
