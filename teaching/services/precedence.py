"""Rule precedence: where two rules both fire, one named rule's label wins (the trainer
honours ``RulePrecedence``)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from mola.errors import InvalidInput
from teaching.models import LIVE_STATUSES, Rule, RulePrecedence, Space
from teaching.services.access import check_moderator


def precedence_record(
    *, space: Space, user, order: list[int], reason: str = ""
) -> list[RulePrecedence]:
    """Record that ``order[0]`` wins over every later rule, ``order[1]`` over the ones after
    it, and so on, where their regions overlap.

    Preconditions: the caller moderates the space; the rules are live rules of the space,
    at least two, no repeats. A pair recorded the other way round before is replaced, so
    the precedences never form a cycle between two rules. Does not bump the teaching
    revision: the caller records the change (a resolution commits a RESOLVE revision).
    """
    check_moderator(space=space, user=user)
    if len(order) < 2 or len(set(order)) != len(order):
        raise InvalidInput(
            "Precedence needs two or more different rules, the winner first.",
            code="invalid_order",
            field="order",
        )
    found = set(
        Rule.objects.filter(space=space, pk__in=order, status__in=LIVE_STATUSES).values_list(
            "pk", flat=True
        )
    )
    missing = [pk for pk in order if pk not in found]
    if missing:
        raise InvalidInput(
            f"Not live rules of {space.slug}: {', '.join(f'#{pk}' for pk in missing)}.",
            code="not_a_live_rule",
            field="order",
        )
    recorded: list[RulePrecedence] = []
    with transaction.atomic():
        for i, winner in enumerate(order):
            for loser in order[i + 1 :]:
                RulePrecedence.objects.filter(
                    Q(winner_id=loser, loser_id=winner), space=space
                ).delete()
                precedence, _ = RulePrecedence.objects.update_or_create(
                    winner_id=winner,
                    loser_id=loser,
                    defaults={"space": space, "created_by": user, "reason": reason},
                )
                recorded.append(precedence)
    return recorded
