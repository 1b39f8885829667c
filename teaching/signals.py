"""What the teaching app tells the apps above it, without importing them.

teaching sits below consensus and community (docs/architecture.md): they call its
services, it never calls theirs. Where teaching's work must be followed by theirs, it sends
one of these signals and they listen (``consensus/receivers.py``, ``community/receivers.py``,
connected in their ``AppConfig.ready``). ``tests/test_architecture.py`` checks that each
signal has its listener, so nothing is silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.dispatch import Signal

from teaching.models import Space

# A teaching write committed: ``space_id``, ``revision`` (the space's teaching revision),
# ``refs`` (the changed teachings as (kind, id)). Sent on commit. consensus re-checks.
teachings_changed = Signal()

# A moderator's decision about people or teachings: ``space``, ``actor``, ``action``,
# ``target``, ``note``, ``data``. Sent inside the decision's transaction, so a listener
# that fails rolls the decision back. community's audit log records it.
decision_taken = Signal()

# Predictions were explained: ``space_id``, ``contributors`` (one list of usernames per
# prediction). community counts the credit; its listener never raises.
predictions_explained = Signal()


def decision_record(
    *,
    space: Space,
    actor,
    action: str,
    target: dict[str, Any] | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Announce a decision inside its transaction (the audit log keeps it)."""
    decision_taken.send(
        sender=Space,
        space=space,
        actor=actor,
        action=action,
        target=target,
        note=note,
        data=data,
    )


def predictions_credit(space_id: int, contributors: Sequence[Iterable[str]]) -> None:
    """Announce whose teachings took part in a batch of predictions."""
    predictions_explained.send(sender=Space, space_id=space_id, contributors=contributors)
