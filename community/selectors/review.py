"""The review queue: proposed teachings, filtered and ordered, each with the open
contradictions it would bring in if endorsed ("would contradict 12 teachings, most severe
…"). Shared by the API (``community/api/review.py``) and the page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q

from consensus.models import Contradiction
from consensus.selectors import KIND_WORDS
from mola.errors import InvalidInput
from teaching.models import TEACHING_MODELS, Space, Status, Teaching

ORDERS = ("oldest", "severe")


@dataclass(frozen=True)
class ReviewFilters:
    order: str = "oldest"  # oldest first, or the most severe contradictions first
    kind: str | None = None
    author: int | None = None  # user id
    label: str | None = None


def review_filters(*, space: Space, params: Mapping[str, Any]) -> ReviewFilters:
    """Query parameters → filters (400 naming the parameter). Shared by the API and page."""
    order = params.get("order") or "oldest"
    if order not in ORDERS:
        raise InvalidInput(
            f"order is one of {', '.join(ORDERS)}.", code="invalid_choice", field="order"
        )
    kind = params.get("kind") or None
    if kind is not None and kind not in TEACHING_MODELS:
        raise InvalidInput(
            f"kind is one of {', '.join(TEACHING_MODELS)}.", code="invalid_choice", field="kind"
        )
    author = params.get("author") or None
    author_id = None
    if author is not None:
        author_id = (
            get_user_model().objects.filter(username=author).values_list("pk", flat=True).first()
        )
        if author_id is None:
            raise InvalidInput(f"No member {author!r}.", code="unknown_member", field="author")
    label = params.get("label") or None
    if label is not None and label not in {item["name"] for item in space.labels}:
        raise InvalidInput(
            f"No label {label!r} in this space.", code="unknown_label", field="label"
        )
    return ReviewFilters(order, kind, author_id, label)


@dataclass
class ReviewItem:
    teaching: Teaching
    contradictions: int = 0
    max_severity: float = 0.0
    most_severe: dict[str, Any] | None = None  # the worst one, described

    @property
    def ref(self) -> str:
        return f"{self.teaching.kind}:{self.teaching.pk}"


def review_queue(*, space: Space, filters: ReviewFilters | None = None) -> list[ReviewItem]:
    """Every proposed teaching that passes ``filters``, with how many open contradictions
    it is part of and how severe the worst is; oldest first, or most severe first.

    One query per teaching kind and two grouped ones for the counts, whatever the queue's
    length; ``review_describe`` adds the worst contradiction of one page's items."""
    filters = filters or ReviewFilters()
    found: list[Teaching] = []
    for kind, model in TEACHING_MODELS.items():
        if filters.kind and kind != filters.kind:
            continue
        queryset = model.objects.filter(space=space, status=Status.PROPOSED)
        if filters.author is not None:
            queryset = queryset.filter(author_id=filters.author)
        if filters.label is not None:
            if kind == "concept":
                continue
            queryset = queryset.filter(label=filters.label)
        found.extend(queryset.select_related("author"))
    items = {f"{t.kind}:{t.pk}": ReviewItem(t) for t in found}
    if items:
        open_rows = Contradiction.objects.filter(space=space, status="open").order_by()
        for column in ("first", "second"):
            grouped = (
                open_rows.filter(**{f"{column}__in": list(items)})
                .values(column)
                .annotate(n=Count("id"), top=Max("severity"))
            )
            for row in grouped:
                item = items[row[column]]
                item.contradictions += row["n"]
                item.max_severity = max(item.max_severity, row["top"])
    ordered = sorted(items.values(), key=lambda i: (i.teaching.created_at, i.ref))
    if filters.order == "severe":
        ordered.sort(key=lambda i: -i.max_severity)  # stable: oldest first among equals
    return ordered


def review_describe(*, space: Space, items: list[ReviewItem]) -> list[ReviewItem]:
    """Fill each item's worst open contradiction: what it is, with which teaching, whose."""
    refs = [i.ref for i in items if i.contradictions]
    if not refs:
        return items
    rows = (
        Contradiction.objects.filter(space=space, status="open")
        .filter(Q(first__in=refs) | Q(second__in=refs))
        .order_by("-severity", "id")
        .values("id", "kind", "first", "second", "severity", "thread_id")
    )
    worst: dict[str, dict[str, Any]] = {}
    for row in rows.iterator():
        for mine, other in ((row["first"], row["second"]), (row["second"], row["first"])):
            if mine in refs and mine not in worst:
                worst[mine] = {**row, "other": other}
        if len(worst) == len(refs):
            break
    others = _authors({w["other"] for w in worst.values()}, space)
    for item in items:
        top = worst.get(item.ref)
        if top is not None:
            kind, _, pk = top["other"].partition(":")
            item.most_severe = {
                "contradiction": top["id"],
                "kind": top["kind"],
                "kind_words": KIND_WORDS.get(top["kind"], top["kind"]),
                "other": {"type": kind, "id": int(pk), "author": others.get(top["other"])},
                "severity": top["severity"],
                "thread": top["thread_id"],
            }
    return items


def _authors(refs: set[str], space: Space) -> dict[str, str]:
    wanted: dict[str, list[int]] = {}
    for ref in refs:
        kind, _, pk = ref.partition(":")
        if kind in TEACHING_MODELS and pk.isdigit():
            wanted.setdefault(kind, []).append(int(pk))
    names = {}
    for kind, pks in wanted.items():
        rows = TEACHING_MODELS[kind].objects.filter(space=space, pk__in=pks)
        for pk, username in rows.values_list("pk", "author__username"):
            names[f"{kind}:{pk}"] = username
    return names
