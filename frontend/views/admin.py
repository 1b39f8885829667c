"""Running a space: client API keys, and the settings and schema editor."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from frontend.forms import GENERAL, problems_by_field
from frontend.views.common import page, space_page
from mola.errors import InvalidInput, MolaError
from teaching import selectors
from teaching.models import Membership, Role, Space
from teaching.services.access import check_moderator
from teaching.services.keys import api_key_create, api_key_revoke
from teaching.services.spaces import space_update


@space_page
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    check_moderator(space=space, user=request.user)
    new_key, errors = None, {}
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            errors = {"name": [{"message": "Name the client that will use this key."}]}
        else:
            try:
                _, new_key = api_key_create(space=space, user=request.user, name=name[:50])
            except MolaError as exc:
                if exc.status == 403:
                    raise
                errors = problems_by_field(exc.problems)
    return page(
        request,
        "frontend/keys.html",
        space,
        membership,
        "keys",
        status=400 if errors else 200,
        new_key=new_key,
        errors=errors,
        keys=selectors.api_key_list(space=space),
    )


@space_page
@require_http_methods(["POST"])
def api_key_revoke_view(
    request: HttpRequest, space: Space, membership: Membership, prefix: str
) -> HttpResponse:
    key = api_key_revoke(space=space, user=request.user, prefix=prefix)
    messages.success(request, f"Key “{key.name}” revoked: clients using it now get 401.")
    return redirect("frontend:keys", slug=space.slug)


def _schema_text(space: Space) -> dict[str, str]:
    return {
        "features": json.dumps(space.features, indent=2, ensure_ascii=False),
        "labels": json.dumps(space.labels, indent=2, ensure_ascii=False),
    }


def _changes(request: HttpRequest, membership: Membership, space: Space) -> dict[str, Any]:
    """What the form changes; the schema is read as JSON lists (owners only)."""
    changes: dict[str, Any] = {
        "name": request.POST.get("name", space.name).strip() or space.name,
        "description": request.POST.get("description", space.description),
        "settings": {"review_novice_teachings": request.POST.get("review") == "on"},
    }
    if membership.role != Role.OWNER:
        return changes
    problems = []
    for field in ("features", "labels"):
        text = request.POST.get(field)
        if text is None:
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(
                {
                    "field": field,
                    "code": "invalid_json",
                    "message": f"Not valid JSON: {exc.msg} (line {exc.lineno}).",
                }
            )
            continue
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            problems.append(
                {
                    "field": field,
                    "code": "invalid",
                    "message": "A list of objects, like the example beside it.",
                }
            )
            continue
        if value != getattr(space, field):
            changes[field] = value
    if problems:
        raise InvalidInput(problems=problems)
    return changes


@space_page
@require_http_methods(["GET", "POST"])
def space_settings(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    check_moderator(space=space, user=request.user)
    errors: dict = {}
    broken: list[dict[str, Any]] = []
    text = _schema_text(space)
    if request.method == "POST":
        text = {f: request.POST.get(f, text[f]) for f in ("features", "labels")}
        try:
            space_update(space=space, user=request.user, **_changes(request, membership, space))
        except MolaError as exc:
            if exc.status == 403:
                raise
            errors = problems_by_field(exc.problems)
            broken = [t for p in exc.problems for t in p.get("teachings", [])]
            errors.setdefault(GENERAL, [])
        else:
            messages.success(request, "The space's settings are saved.")
            return redirect("frontend:settings", slug=space.slug)
    return page(
        request,
        "frontend/settings.html",
        space,
        membership,
        "settings",
        status=(409 if broken else 400) if errors else 200,
        errors=errors,
        broken=broken,
        text=text,
        is_owner=membership.role == Role.OWNER,
    )
