"""Teaching references (``{"type", "id"}``) as the community app needs them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from teaching.models import TEACHING_MODELS, Space, Teaching

Ref = tuple[str, int]


def ref_key(ref: dict[str, Any] | Ref) -> Ref:
    if isinstance(ref, dict):
        return (str(ref["type"]), int(ref["id"]))
    return (str(ref[0]), int(ref[1]))


def ref_dict(ref: Ref) -> dict[str, Any]:
    return {"type": ref[0], "id": ref[1]}


def teachings_by_ref(*, space: Space, refs: Iterable[dict[str, Any] | Ref]) -> dict[Ref, Teaching]:
    """The teachings of ``space`` named by ``refs`` (missing ones are left out)."""
    wanted: dict[str, set[int]] = {}
    for ref in refs:
        kind, pk = ref_key(ref)
        wanted.setdefault(kind, set()).add(pk)
    found: dict[Ref, Teaching] = {}
    for kind, pks in wanted.items():
        model = TEACHING_MODELS.get(kind)
        if model is None:
            continue
        for teaching in model.objects.filter(space=space, pk__in=pks).select_related("author"):
            found[(kind, teaching.pk)] = teaching
    return found
