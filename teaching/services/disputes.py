"""The ``disputed`` flag: part of an open contradiction (kept by the consensus app)."""

from __future__ import annotations

from teaching.models import TEACHING_MODELS, Space

_CHUNK = 500  # ids per ``IN`` list: SQLite allows 32,766 variables per query


def teachings_mark_disputed(*, space: Space, refs: set[tuple[str, int]]) -> None:
    """Flag exactly ``refs`` as disputed in the space. Not a teaching change: no revision.

    Only the flags that change are written, a bounded ``IN`` list at a time (a large space
    has tens of thousands of disputed teachings)."""
    for kind, model in TEACHING_MODELS.items():
        wanted = {pk for ref_kind, pk in refs if ref_kind == kind}
        flagged = set(model.objects.filter(space=space, disputed=True).values_list("pk", flat=True))
        for ids, disputed in ((flagged - wanted, False), (wanted - flagged, True)):
            ordered = sorted(ids)
            for start in range(0, len(ordered), _CHUNK):
                model.objects.filter(space=space, pk__in=ordered[start : start + _CHUNK]).update(
                    disputed=disputed
                )


def teachings_flag_disputed(
    *, space: Space, disputed: set[tuple[str, int]], undisputed: set[tuple[str, int]]
) -> None:
    """Set the flag on ``disputed`` and clear it on ``undisputed`` (a decision on a few
    contradictions: the rest of the space's flags are left as they are)."""
    for refs, value in ((disputed, True), (undisputed - disputed, False)):
        for kind, model in TEACHING_MODELS.items():
            ids = sorted(pk for ref_kind, pk in refs if ref_kind == kind)
            for start in range(0, len(ids), _CHUNK):
                model.objects.filter(space=space, pk__in=ids[start : start + _CHUNK]).exclude(
                    disputed=value
                ).update(disputed=value)
