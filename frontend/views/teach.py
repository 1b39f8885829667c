"""Teach: the concept and rule editors, their live syntax check, the rule preview, and one
teaching's page (its history, edit, retire)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consensus.preview import rule_preview
from consensus.selectors import notable_disputes
from frontend.forms import problems_by_field
from frontend.highlights import marked_texts, text_features
from frontend.views.common import page, space_page, teaching_write
from mola.errors import InvalidInput, MolaError
from teaching import selectors
from teaching.language import compile_concepts, compile_in_space, live_concept_definitions
from teaching.models import LIVE_STATUSES, Concept, Membership, Space
from teaching.services import common, history
from teaching.services.access import may_edit
from teaching.services.teachings import teaching_create, teaching_update

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\"[^\"]*\"?|\d+(\.\d+)?|\S")
EDITED_ON_THE_PAGE = {  # an example's page has no edit form
    "rule": ("condition", "label", "rationale"),
    "concept": ("name", "definition", "description"),
}
PREVIEW_SHOWN = 12  # examples the preview lists per group; the counts are complete
SAVED = {
    "active": "It is active and the model is retraining.",
    "proposed": "It waits for an expert or a moderator to endorse it.",
}


def _vocabulary(space: Space) -> dict[str, Any]:
    return {
        "features": space.schema.features,
        "labels": space.schema.labels,
        "concepts": Concept.objects.filter(space=space, status__in=LIVE_STATUSES)
        .select_related("author")
        .order_by("name"),
    }


def _teach_page(
    request: HttpRequest, space: Space, membership: Membership, status: int = 200, **context: Any
) -> HttpResponse:
    context.setdefault("rule_values", {})
    context.setdefault("concept_values", {})
    return page(
        request,
        "frontend/teach.html",
        space,
        membership,
        "teach",
        status=status,
        **_vocabulary(space),
        **context,
    )


@space_page
@require_GET
def teach(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    return _teach_page(request, space, membership)


def _saved(request: HttpRequest, kind: str, teaching, revision: int) -> None:
    """Say it is saved, link it, and (once the consensus check has seen it) how many
    contradictions it opened: the fragment polls ``teaching-disputes`` until then."""
    args = [teaching.space.slug, kind, teaching.pk]
    messages.success(
        request,
        format_html(
            '<a href="{}">{} #{}</a> saved at revision {}. {} <span hx-get="{}?rev={}" '
            'hx-trigger="load" hx-swap="outerHTML"></span>',
            reverse("frontend:teaching", args=args),
            kind.capitalize(),
            teaching.pk,
            revision,
            SAVED.get(teaching.status, ""),
            reverse("frontend:teaching-disputes", args=args),
            revision,
        ),
    )


def _create(request: HttpRequest, space: Space, membership: Membership, kind: str) -> HttpResponse:
    """Save the editor's rule or concept; on bad input show the teach page with the form's
    values and errors (400)."""
    values = {k: request.POST.get(k, "") for k in EDITED_ON_THE_PAGE[kind]}
    if kind == "concept":  # a name or definition typed with a trailing space is the same
        values = {k: v.strip() for k, v in values.items()}
    try:
        teaching, revision = teaching_create(space=space, user=request.user, kind=kind, **values)
    except InvalidInput as exc:
        errors = problems_by_field(exc.problems)
        return _teach_page(
            request,
            space,
            membership,
            status=400,
            **{f"{kind}_values": values, f"{kind}_errors": errors},
        )
    _saved(request, kind, teaching, revision)
    return redirect("frontend:teach", slug=space.slug)


@space_page
@teaching_write
@require_POST
def rule_create(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    return _create(request, space, membership, "rule")


@space_page
@teaching_write
@require_POST
def concept_create(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    return _create(request, space, membership, "concept")


def marked_excerpt(text: str, position: int | None) -> dict[str, str] | None:
    """The line holding ``position``, split around the offending token, for highlighting."""
    if position is None or not 0 <= position <= len(text):
        return None
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start:] if end < 0 else text[start:end]
    at = position - start
    match = TOKEN.match(line, at)
    token = match.group(0) if match else ""
    return {
        "before": line[:at],
        "token": token or " ",
        "after": line[at + len(token) :],
        "length": str(len(token)),
    }


def _concepts_besides(space: Space, name: str | None):
    """The space's compiled concepts without ``name``: a concept may not use itself."""
    others = live_concept_definitions(space)
    others.pop(name or "", None)
    return compile_concepts(space.schema, others)


@space_page
@require_POST
def check(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    """Compile the text as the editor holds it; answer OK or the first error, in place."""
    source = request.POST.get("source", "condition")
    text = request.POST.get(source, "")
    problem = None
    if text.strip():
        try:
            compile_in_space(
                text,
                space=space,
                field=source,
                concepts=_concepts_besides(space, request.POST.get("name"))
                if source == "definition"
                else None,
            )
        except InvalidInput as exc:
            problem = exc.problems[0]
    excerpt = marked_excerpt(text, problem.get("position")) if problem else None
    return render(
        request,
        "frontend/_check.html",
        {
            "empty": not text.strip(),
            "problem": problem,
            "excerpt": excerpt,
            "target": request.POST.get("target", ""),
            "kind": "definition" if source == "definition" else "condition",
            "fix_with": _replacement(problem, excerpt),
        },
    )


def _replacement(problem: dict[str, Any] | None, excerpt: dict[str, str] | None) -> str:
    """What the "Use …" button puts in place of the token: a choice keeps its quotes."""
    if not problem or not problem.get("suggestion") or not excerpt:
        return ""
    quoted = excerpt["token"].startswith('"')
    return f'"{problem["suggestion"]}"' if quoted else problem["suggestion"]


@space_page
@require_POST
def preview(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    condition = request.POST.get("condition", "")
    label = request.POST.get("label", "")
    context: dict[str, Any] = {"space": space, "label": label}
    if not condition.strip():
        context["problems"] = [{"message": "Write a condition to preview."}]
    else:
        try:
            context.update(_preview_context(space, condition, label))
        except InvalidInput as exc:
            context["problems"] = exc.problems
    return render(request, "frontend/_preview.html", context)


def _preview_context(space: Space, condition: str, label: str) -> dict[str, Any]:
    """The API's preview, with the teachings the page names: the first covered examples
    (with the words the rule matched in their texts) and the rules it would contradict."""
    preview = rule_preview(space=space, condition=condition, label=label)
    rule_ids = sorted(
        {t["id"] for c in preview.contradictions for t in c["teachings"] if t["type"] == "rule"}
    )
    shown = {
        group: selectors.teachings_by_id(space=space, kind="example", ids=ids[:PREVIEW_SHOWN])
        for group, ids in (("agreeing", preview.agreeing), ("disagreeing", preview.disagreeing))
    }
    if text_features(space.schema):
        compiled = compile_in_space(condition, space=space, field="condition")
        for example in [*shown["agreeing"], *shown["disagreeing"]]:
            example.marked = marked_texts(space.schema, [compiled], example.features)
    return {
        "preview": preview,
        **shown,
        "overlapping_rules": selectors.teachings_by_id(space=space, kind="rule", ids=rule_ids),
    }


# --- One teaching ----------------------------------------------------------------------------


def _teaching_url(space: Space, kind: str, teaching_id: int) -> str:
    return reverse(
        "frontend:teaching", kwargs={"slug": space.slug, "kind": kind, "teaching_id": teaching_id}
    )


@space_page(readers=True)
@teaching_write
@require_http_methods(["GET", "POST"])
def teaching_detail(
    request: HttpRequest, space: Space, membership: Membership | None, kind: str, teaching_id: int
) -> HttpResponse:
    teaching = common.teaching_get(space=space, kind=kind, teaching_id=teaching_id)
    errors: dict = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        fields = EDITED_ON_THE_PAGE.get(kind, ())
        values = {k: request.POST[k] for k in fields if k in request.POST}
        try:
            if fields:
                teaching_update(
                    space=space, user=request.user, kind=kind, teaching_id=teaching.pk, **values
                )
        except MolaError as exc:
            if exc.status == 403:
                raise
            errors = problems_by_field(exc.problems)
        else:
            messages.success(request, f"{kind.capitalize()} #{teaching.pk} updated.")
            return redirect(_teaching_url(space, kind, teaching.pk))
    return page(
        request,
        "frontend/teaching.html",
        space,
        membership,
        "teach",
        status=400 if errors else 200,
        kind=kind,
        teaching=teaching,
        errors=errors,
        values=values or _current_values(teaching),
        history=selectors.teaching_history(space=space, kind=kind, teaching_id=teaching.pk),
        may_edit=may_edit(teaching=teaching, membership=membership),
        live=teaching.status in LIVE_STATUSES,
        disputes=notable_disputes(space=space, teachings=[teaching]),
        counterexamples=teaching.counterexamples.filter(status__in=LIVE_STATUSES)
        if kind == "rule"
        else None,
        **_vocabulary(space),
    )


def _current_values(teaching) -> dict[str, Any]:
    if teaching.kind == "rule":
        return {
            "condition": teaching.condition,
            "label": teaching.label,
            "rationale": teaching.rationale,
        }
    if teaching.kind == "concept":
        return {
            "name": teaching.name,
            "definition": teaching.definition,
            "description": teaching.description,
        }
    return {}


@space_page
@teaching_write
@require_POST
def teaching_retire(
    request: HttpRequest, space: Space, membership: Membership, kind: str, teaching_id: int
) -> HttpResponse:
    try:
        _, revision = common.teaching_retire(
            space=space, kind=kind, teaching_id=teaching_id, user=request.user
        )
        messages.success(
            request,
            f"{kind.capitalize()} #{teaching_id} retired "
            f"(revision {revision}); its history is kept.",
        )
    except MolaError as exc:
        if exc.status == 403:
            raise
        messages.error(request, " ".join(p["message"] for p in exc.problems))
    return redirect(_teaching_url(space, kind, teaching_id))


@space_page
@teaching_write
@require_POST
def teaching_revert(
    request: HttpRequest, space: Space, membership: Membership, kind: str, teaching_id: int
) -> HttpResponse:
    try:
        revision = int(request.POST.get("revision", ""))
        _, new = history.teaching_revert(
            space=space, kind=kind, teaching_id=teaching_id, user=request.user, revision=revision
        )
        messages.success(request, f"Reverted to revision {revision} (now revision {new}).")
    except ValueError:
        messages.error(request, "Choose a revision to go back to.")
    except MolaError as exc:
        if exc.status == 403:
            raise
        messages.error(request, " ".join(p["message"] for p in exc.problems))
    return redirect(_teaching_url(space, kind, teaching_id))
