"""Bulk review: endorse or reject many proposed teachings with one reason.

One transaction per item, not all-or-nothing: each endorsement or rejection is its own
decision (its own teaching revision, audit entry and notice to the author), so an item
someone else decided meanwhile fails alone (its result says why) and the others go through.
Who may review and what the request says are checked before any item is decided.
"""

from __future__ import annotations

from typing import Any

from mola.errors import InvalidInput, MolaError
from teaching.models import TEACHING_MODELS, Space
from teaching.services import trust
from teaching.services.access import check_trusted

MAX_BULK = 100
DECISIONS = {"endorse": trust.teaching_endorse, "reject": trust.teaching_reject}


def review_check(*, space: Space, user) -> None:
    check_trusted(space=space, user=user)


def review_bulk(
    *,
    space: Space,
    user,
    decision: str,
    items: list[dict[str, Any]],
    note: str = "",
    reason_required: bool = True,
) -> list[dict[str, Any]]:
    """Decide each item (``{"type", "id"}``); returns one result per item, in order:
    ``{"type", "id", "status"}`` or ``{"type", "id", "error": {code, message}}``.

    A bulk rejection needs a reason (``reason_required``); one item's Reject button, like
    the single reject endpoint, does not."""
    review_check(space=space, user=user)
    if decision not in DECISIONS:
        raise InvalidInput(
            "decision is endorse or reject.", code="invalid_choice", field="decision"
        )
    if not items or len(items) > MAX_BULK:
        raise InvalidInput(f"Name 1 to {MAX_BULK} teachings.", code="invalid_length", field="items")
    refs = []
    for item in items:
        kind, pk = item.get("type"), item.get("id")
        if kind not in TEACHING_MODELS or not isinstance(pk, int) or isinstance(pk, bool):
            raise InvalidInput(
                'Each item is {"type": "concept"|"rule"|"example", "id": n}.',
                code="invalid", field="items",
            )  # fmt: skip
        refs.append((kind, pk))
    note = note.strip()
    if decision == "reject" and reason_required and not note:
        raise InvalidInput("Say why: the authors read the reason.", code="required", field="note")
    results = []
    for kind, pk in dict.fromkeys(refs):
        try:
            teaching, _ = DECISIONS[decision](
                space=space, kind=kind, teaching_id=pk, user=user, note=note
            )
            results.append({"type": kind, "id": pk, "status": teaching.status})
        except MolaError as exc:
            problem = exc.problems[0]
            results.append(
                {
                    "type": kind,
                    "id": pk,
                    "error": {"code": problem["code"], "message": problem["message"]},
                }
            )
    return results
