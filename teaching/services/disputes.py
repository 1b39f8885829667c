"""The ``disputed`` flag: part of an open contradiction (kept by the consensus app)."""

from __future__ import annotations

from teaching.models import TEACHING_MODELS, Space


def teachings_mark_disputed(*, space: Space, refs: set[tuple[str, int]]) -> None:
    """Flag exactly ``refs`` as disputed in the space. Not a teaching change: no revision."""
    for kind, model in TEACHING_MODELS.items():
        ids = [pk for ref_kind, pk in refs if ref_kind == kind]
        model.objects.filter(space=space, disputed=True).exclude(pk__in=ids).update(disputed=False)
        model.objects.filter(space=space, pk__in=ids, disputed=False).update(disputed=True)
