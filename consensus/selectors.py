"""Reads of contradictions: the filtered list (API and triage page), the same grouped by
teaching, and contradictions described for people (each teaching in words, with author)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q, QuerySet

from consensus.evidence import rows_rendered, shown_fields
from consensus.models import Contradiction
from consensus.outside import EVALUATION_DISAGREEMENT, OUTSIDE_KINDS
from mola.engine.consensus import KINDS
from mola.errors import InvalidInput
from teaching.models import TEACHING_MODELS, Space, Teaching

STATUSES = ("open", "resolved", "dismissed")
KIND_WORDS = {
    "rule_overlap": "rules that overlap",
    "rule_exception": "a rule inside another",
    "rule_example": "an example against a rule",
    "example_conflict": "examples that conflict",
    "concept_duplicate": "duplicate concepts",
    EVALUATION_DISAGREEMENT: "members disagree on an evaluation case",
}
MAX_WITNESS_VALUES = 8  # feature values shown for an example in words


@dataclass(frozen=True)
class ContradictionFilters:
    """The list's filters, checked: every field optional but ``status`` (``all`` = any)."""

    status: str = "open"
    kind: str | None = None
    teaching: str | None = None  # "rule:12"
    member: int | None = None  # user id of an author of either teaching
    min_severity: float | None = None
    has_thread: bool | None = None


def _bad(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, code=code, field=field)


def contradiction_filters(*, space: Space, params: Mapping[str, Any]) -> ContradictionFilters:
    """Query parameters → filters (400 naming the parameter). Shared by the API and pages."""
    status = params.get("status") or "open"
    if status != "all" and status not in STATUSES:
        raise _bad("status", f"status is one of {', '.join(STATUSES)} or all.", "invalid_choice")
    kind = params.get("kind") or None
    if kind is not None and kind not in (*KINDS, *OUTSIDE_KINDS):
        raise _bad(
            "kind", f"kind is one of {', '.join((*KINDS, *OUTSIDE_KINDS))}.", "invalid_choice"
        )
    teaching = params.get("teaching") or None
    if teaching is not None:
        kind_part, _, pk = teaching.partition(":")
        if kind_part not in TEACHING_MODELS or not pk.isdigit():
            raise _bad("teaching", "teaching is written type:id, e.g. rule:12.")
        teaching = f"{kind_part}:{int(pk)}"
    member = params.get("member") or None
    member_id = None
    if member is not None:
        member_id = (
            get_user_model().objects.filter(username=member).values_list("pk", flat=True).first()
        )
        if member_id is None:
            raise _bad("member", f"No member {member!r}.", "unknown_member")
    min_severity = params.get("min_severity") or None
    if min_severity is not None:
        try:
            min_severity = float(min_severity)
        except ValueError:
            raise _bad("min_severity", "min_severity is a number between 0 and 1.") from None
        if not 0.0 <= min_severity <= 1.0:
            raise _bad("min_severity", "min_severity is a number between 0 and 1.")
    has_thread = params.get("has_thread") or None
    if has_thread is not None:
        if has_thread not in ("true", "false"):
            raise _bad("has_thread", "has_thread is true or false.", "invalid_choice")
        has_thread = has_thread == "true"
    return ContradictionFilters(status, kind, teaching, member_id, min_severity, has_thread)


def contradiction_list(
    *, space: Space, filters: ContradictionFilters | None = None
) -> QuerySet[Contradiction]:
    """The space's contradictions that pass ``filters`` (default: open), most severe first.

    Each filter is an indexed column after (space, status) (the ``contra_*`` indexes). A
    teaching or a member is in either of two columns; rather than one ``OR`` (which SQLite
    answers by walking the whole queue in severity order), each column is its own indexed
    query of ids, the two joined with ``UNION``, and the rows are those ids: a page and its
    count stay fast at 100,000 stored contradictions (``bench/moderation.py``)."""
    branches = _branches(space, filters or ContradictionFilters())
    if len(branches) == 1:
        return branches[0].order_by("-severity", "id")
    ids = branches[0].values("pk").union(*(b.values("pk") for b in branches[1:]))
    return Contradiction.objects.filter(pk__in=ids).order_by("-severity", "id")


def _branches(space: Space, filters: ContradictionFilters) -> list[QuerySet[Contradiction]]:
    """The filtered queries whose union is the list: one, or one per column of the teaching
    (or, without one, of the member)."""
    queryset = Contradiction.objects.filter(space=space).order_by()
    if filters.status != "all":
        queryset = queryset.filter(status=filters.status)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.min_severity is not None:
        queryset = queryset.filter(severity__gte=filters.min_severity)
    if filters.has_thread is not None:
        queryset = queryset.filter(thread__isnull=not filters.has_thread)
    member = filters.member
    if filters.teaching:
        if member is not None:  # the teaching's columns choose the branch; then either author
            queryset = queryset.filter(Q(first_author=member) | Q(second_author=member))
        return [queryset.filter(first=filters.teaching), queryset.filter(second=filters.teaching)]
    if member is not None:
        return [queryset.filter(first_author=member), queryset.filter(second_author=member)]
    return [queryset]


@dataclass(frozen=True)
class TeachingGroup:
    """One teaching's share of a filtered list: how many contradictions, the most severe."""

    teaching: str  # "rule:12"
    count: int
    max_severity: float


def contradictions_by_teaching(
    *, space: Space, filters: ContradictionFilters | None = None
) -> list[TeachingGroup]:
    """The filtered contradictions grouped by teaching (each counts in both of its
    teachings' groups), the most severe group first: two grouped queries, one per column
    (an index-only read without a teaching or member filter)."""
    queryset = contradiction_list(space=space, filters=filters).order_by()
    groups: dict[str, tuple[int, float]] = {}
    for column in ("first", "second"):
        for row in queryset.values(column).annotate(n=Count("id"), top=Max("severity")):
            count, top = groups.get(row[column], (0, 0.0))
            groups[row[column]] = (count + row["n"], max(top, row["top"]))
    return sorted(
        (TeachingGroup(ref, count, top) for ref, (count, top) in groups.items() if ref),
        key=lambda g: (-g.max_severity, -g.count, g.teaching),
    )


@dataclass
class TeachingDisputes:
    """What a review item says of a teaching's open contradictions: how many, with how many
    teachings of each kind ("would contradict 12 rules"), and the most severe one."""

    teaching: str  # "rule:12"
    count: int = 0
    against: dict[str, int] = field(default_factory=dict)  # other teaching's kind → count
    most_severe: dict[str, Any] | None = None  # {id, kind, severity, summary}


def teachings_disputes(*, space: Space, refs: Iterable[str]) -> dict[str, TeachingDisputes]:
    """Per teaching (``rule:12``), its open contradictions summed up for a review queue:
    two indexed queries for the whole page of teachings."""
    wanted = sorted(set(refs))
    found = {ref: TeachingDisputes(ref) for ref in wanted}
    open_rows = Contradiction.objects.filter(space=space, status="open").order_by()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for mine, other in (("first", "second"), ("second", "first")):
            rows = open_rows.filter(**{f"{mine}__in": chunk}).values_list(
                "pk", mine, other, "kind", "severity", "summary"
            )
            for pk, ref, other_ref, kind, severity, summary in rows:
                item = found[ref]
                item.count += 1
                other_kind = other_ref.partition(":")[0]
                item.against[other_kind] = item.against.get(other_kind, 0) + 1
                top = item.most_severe
                if top is None or (severity, -pk) > (top["severity"], -top["id"]):
                    item.most_severe = {
                        "id": pk, "kind": kind, "severity": severity, "summary": summary
                    }  # fmt: skip
    return found


def teaching_words(teaching: Teaching) -> str:
    """What a teaching says, in words a moderator reads beside its ref."""
    if teaching.kind == "rule":
        return f"WHEN {teaching.condition} THEN {teaching.label}"
    if teaching.kind == "concept":
        return f"{teaching.name} = {teaching.definition}"
    values = list(teaching.features.items())
    shown = ", ".join(f"{name} = {value}" for name, value in values[:MAX_WITNESS_VALUES])
    more = (
        f" (+{len(values) - MAX_WITNESS_VALUES} more)" if len(values) > MAX_WITNESS_VALUES else ""
    )
    return f"{shown}{more} → {teaching.label}"


def _teachings(space: Space, refs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Teaching]:
    wanted: dict[str, set[int]] = {}
    for kind, pk in refs:
        wanted.setdefault(kind, set()).add(pk)
    found: dict[tuple[str, int], Teaching] = {}
    for kind, ids in wanted.items():
        for teaching in (
            TEACHING_MODELS[kind].objects.filter(space=space, pk__in=ids).select_related("author")
        ):
            found[(kind, teaching.pk)] = teaching
    return found


def contradictions_described(
    *, space: Space, rows: Iterable[Contradiction]
) -> list[dict[str, Any]]:
    """Each row as the API lists it, with its teachings described: ref, what it says in
    words, its author and status; a rule contradiction's evidence and note with its rules'
    counts (``consensus.evidence``). One query per teaching kind for the whole page, and one
    for the rules' counts."""
    rows = list(rows)
    refs = {(r["type"], int(r["id"])) for row in rows for r in row.teachings}
    found = _teachings(space, refs)
    shown = rows_rendered(space=space, rows=[shown_fields(row) for row in rows])
    described = []
    for row, (evidence, note) in zip(rows, shown, strict=True):
        teachings = []
        for ref in row.teachings:
            teaching = found.get((ref["type"], int(ref["id"])))
            teachings.append(
                {
                    "type": ref["type"],
                    "id": int(ref["id"]),
                    "author": teaching.author.username if teaching else None,
                    "status": teaching.status if teaching else None,
                    "words": teaching_words(teaching) if teaching else "",
                }
            )
        described.append(
            {
                "id": row.pk,
                "kind": row.kind,
                "kind_words": KIND_WORDS.get(row.kind, row.kind),
                "teachings": teachings,
                "witness": row.witness,
                "region": row.region,
                "evidence": evidence,
                "severity": row.severity,
                "thread": row.thread_id,
                "status": row.status,
                "note": note,
                "summary": row.summary,
                "expected": row.expected,
                "checked_revision": row.checked_revision,
                "close_note": row.close_note,
                "opened_at": row.opened_at,
                "closed_at": row.closed_at,
            }
        )
    return described


NOTABLE_SEVERITY = 0.5  # below this, an open dispute without a thread gets no "disputed" tag


def notable_disputes(*, space: Space, teachings) -> dict[str, dict[str, Any]]:
    """Which of ``teachings`` deserve a "disputed" tag: part of an open contradiction at
    least ``NOTABLE_SEVERITY`` severe, or of one with a thread. Per ``"rule:12"``: the most
    severe such dispute's severity and thread (the tag links to it). One query; only the
    teachings flagged disputed are looked up."""
    refs = {f"{t.kind}:{t.pk}" for t in teachings if t.disputed}
    if not refs:
        return {}
    rows = (
        Contradiction.objects.filter(space=space, status="open")
        .filter(Q(first__in=refs) | Q(second__in=refs))
        .filter(Q(severity__gte=NOTABLE_SEVERITY) | Q(thread__isnull=False))
        .order_by("-severity", "id")
        .values_list("first", "second", "severity", "thread_id")
    )
    found: dict[str, dict[str, Any]] = {}
    for first, second, severity, thread in rows:
        for ref in (first, second):
            if ref in refs and ref not in found:
                found[ref] = {"severity": severity, "thread": thread}
    return found
