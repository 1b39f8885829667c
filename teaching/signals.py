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

from teaching.models import ModelStatus, Space

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

# A trained version is about to be published: ``version`` (a ``ModelVersion`` whose
# ``metrics`` are set and whose status is READY, not saved yet), ``model`` (the fitted
# ``TaughtModel``). Sent inside the publishing transaction, so what a listener writes commits
# with the version. A listener may add to ``version.metrics`` and hold the version back
# (``version_hold``). evaluation scores the version on the agreed cases and reports what
# it changed.
version_publishing = Signal()

# Training asks for a bounded sample of the space's unlabelled case pool: ``space``,
# ``limit``. A listener returns a sequence of feature dicts (cases answers with its pool,
# ``cases/receivers.py``); sent inside the snapshot's consistent read. See ``pool_sample``.
pool_sample_wanted = Signal()


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


def version_publishing_announce(*, version, model) -> None:
    """Let the apps above score, report on or hold a version before it is published."""
    version_publishing.send(sender=Space, version=version, model=model)


def version_hold(version, *, because: str) -> None:
    """Hold ``version`` back instead of publishing it (a ``version_publishing`` listener)."""
    version.status = ModelStatus.HELD
    version.held_because = because


def pool_sample(*, space: Space, limit: int) -> tuple[dict[str, Any], ...]:
    """At most ``limit`` unlabelled cases of the space's pool, for the learner (none when
    no app keeps a pool)."""
    rows: list[dict[str, Any]] = []
    for _receiver, answer in pool_sample_wanted.send(sender=Space, space=space, limit=limit):
        rows.extend(answer or ())
    return tuple(rows[:limit])
