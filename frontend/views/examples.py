"""The examples table with filters, and adding examples and counterexamples in one form:
the master coach's "right, wrong, right" (an example, a counterexample, an example)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from consensus.selectors import notable_disputes
from frontend.forms import (
    GENERAL,
    feature_fields,
    parse_row,
    problems_by_field,
    row_values,
)
from frontend.views.common import page, space_page, teaching_write
from mola.errors import InvalidInput, MolaError
from teaching import selectors
from teaching.models import Membership, Space, Status
from teaching.services.examples import examples_create

PER_PAGE = 50
FILTERS = ("label", "author", "status", "evaluation")
# The three steps of the pattern; any of them may be left out (leave its label empty).
STEPS = [
    {
        "title": "Model it right",
        "hint": "An example of the situation done well, or done wrong with the cue it needs.",
        "counter": False,
    },
    {
        "title": "Show it wrong",
        "hint": "A counterexample: a case inside one rule's region "
        "where that rule's cue is wrong. Name the rule it refutes.",
        "counter": True,
    },
    {
        "title": "Model it right again",
        "hint": "The situation once more, as it should be.",
        "counter": False,
    },
]


def _rows(
    space: Space,
    data: dict[str, Any] | None = None,
    problems: list[dict[str, Any]] | None = None,
    indexes: list[int] | None = None,
) -> list[dict[str, Any]]:
    """The three rows of the form, with the values typed and the problems of each."""
    rows = []
    submitted = indexes or []
    for index, step in enumerate(STEPS):
        prefix = f"e{index}-"
        grouped: dict = {}
        if problems and index in submitted:
            grouped = problems_by_field(problems, prefix=f"examples.{submitted.index(index)}")
        values = row_values(space.schema, data, prefix=prefix) if data else {}
        rows.append(
            {
                **step,
                "index": index,
                "prefix": prefix,
                "fields": feature_fields(
                    space.schema, prefix=prefix, values=values, problems=grouped
                ),
                "label": (data or {}).get(f"{prefix}label", ""),
                "note": (data or {}).get(f"{prefix}note", ""),
                "refutes": (data or {}).get(f"{prefix}refutes", ""),
                "evaluation": (data or {}).get(f"{prefix}evaluation") == "on",
                "errors": grouped,
            }
        )
    return rows


REFUTES_LISTED = 60  # live rules offered in a list; with more, the rule's number is typed


def _refutable_rules(space: Space) -> list | None:
    """The live rules a counterexample may refute, or None when they are too many to list
    (three rows of 500 options made the page ~0.2 s of CPU and 240 KB at M)."""
    rules = list(selectors.live_rules(space=space)[: REFUTES_LISTED + 1])
    return rules if len(rules) <= REFUTES_LISTED else None


def _list_context(request: HttpRequest, space: Space) -> dict[str, Any]:
    filters = {k: request.GET.get(k, "") for k in FILTERS}
    queryset = selectors.teaching_list(space=space, kind="example", filters=filters)
    paged = Paginator(queryset.select_related("refutes"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = urlencode({k: v for k, v in filters.items() if v})
    return {
        "filters": filters,
        "examples": paged,
        "disputes": notable_disputes(space=space, teachings=list(paged)),
        "query": query,
        "authors": selectors.example_authors(space=space),
        "statuses": Status.values,
        "rules": _refutable_rules(space),
        "features": space.schema.features,
        "labels": space.schema.labels,
        "label_names": space.schema.label_names,
    }


@space_page(readers=True)
@require_GET
def example_list(request: HttpRequest, space: Space, membership: Membership | None) -> HttpResponse:
    return page(
        request,
        "frontend/examples.html",
        space,
        membership,
        "examples",
        rows=_rows(space, {"e1-refutes": request.GET.get("refutes", "")}),
        **_list_context(request, space),
    )


def _items(space: Space, data) -> tuple[list[int], list[dict[str, Any]]]:
    """The rows the user filled (a row counts when its label is chosen)."""
    indexes, items = [], []
    for index in range(len(STEPS)):
        prefix = f"e{index}-"
        label = data.get(f"{prefix}label", "")
        if not label:
            continue
        refutes = data.get(f"{prefix}refutes", "")
        items.append(
            {
                "features": parse_row(space.schema, data, prefix=prefix),
                "label": label,
                "note": data.get(f"{prefix}note", "").strip(),
                # Digits are a rule's id; anything else the service refuses, by its field.
                "refutes": int(refutes) if refutes.isdigit() else refutes.strip() or None,
                "evaluation": data.get(f"{prefix}evaluation") == "on",
            }
        )
        indexes.append(index)
    return indexes, items


@space_page
@teaching_write
@require_POST
def example_create(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    indexes, items = _items(space, request.POST)
    problems: list[dict[str, Any]] = []
    if not items:
        problems = [{"field": None, "message": "Choose a label in at least one row."}]
    else:
        try:
            created, revision = examples_create(space=space, user=request.user, items=items)
        except InvalidInput as exc:
            problems = exc.problems
        except MolaError:
            raise
        else:
            ids = ", ".join(f"#{e.pk}" for e in created)
            word = "Example" if len(created) == 1 else "Examples"
            messages.success(request, f"{word} {ids} saved at revision {revision}.")
            return redirect("frontend:examples", slug=space.slug)
    general = [p for p in problems if not (p.get("field") or "").startswith("examples.")]
    return page(
        request,
        "frontend/examples.html",
        space,
        membership,
        "examples",
        status=400,
        rows=_rows(space, request.POST, problems, indexes),
        form_errors={GENERAL: general},
        open_form=True,
        **_list_context(request, space),
    )
