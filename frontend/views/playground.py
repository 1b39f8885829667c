"""The playground: one input per feature, and the model's answer with its reasons."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from frontend.forms import default_row, feature_fields, parse_row, problems_by_field, row_values
from frontend.highlights import marked_texts, text_features
from frontend.views.common import page, space_page
from mola.errors import MolaError
from teaching import selectors
from teaching.language import compile_in_space
from teaching.models import Membership, Rule, Space
from teaching.services.predict import predict

PREFIX = "f-"


def _answer(space: Space, row: dict[str, Any]) -> dict[str, Any]:
    """The prediction for one row, or why there is none (untrained, bad input)."""
    try:
        result = predict(space=space, instances=[row])
    except MolaError as exc:
        if exc.problems and exc.problems[0].get("code") == "untrained":
            return {"untrained": True}
        return {
            "problems": exc.problems,
            "errors": problems_by_field(exc.problems, prefix="instances.0"),
        }
    prediction = result["predictions"][0]
    probabilities = sorted(
        (prediction.get("probabilities") or {}).items(), key=lambda item: -item[1]
    )
    explanation = prediction.get("explanation") or {}
    conditions = _conditions(space, explanation)
    return {
        "prediction": prediction,
        "probabilities": probabilities,
        "explanation": explanation,
        "conditions": conditions,
        "marked": _marked(space, conditions, row, explanation.get("words") or []),
        "model_version": result["model_version"],
        "teaching_revision": result.get("teaching_revision"),
    }


def _conditions(space: Space, explanation: dict[str, Any]) -> dict[int, str]:
    """The text of the rules that fired, so a coach reads them without a click."""
    ids = [r.get("id") for r in explanation.get("rules", []) if isinstance(r, dict)]
    return dict(Rule.objects.filter(space=space, pk__in=ids).values_list("pk", "condition"))


def _marked(
    space: Space, conditions: dict[int, str], row: dict[str, Any], words: list[dict]
) -> list:
    """The row's texts with the words the fired rules matched and the words that pushed
    the answer (none without text features)."""
    if not text_features(space.schema) or not (conditions or words):
        return []
    compiled = []
    for text in conditions.values():
        try:
            compiled.append(compile_in_space(text, space=space, field="condition"))
        except MolaError:
            continue  # a rule whose concept changed since: shown without highlights
    pushed = [w["word"] for w in words if isinstance(w, dict) and isinstance(w.get("word"), str)]
    return marked_texts(space.schema, compiled, row, pushed)


@space_page
@require_GET
def playground(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    row = default_row(space.schema)
    answer = _answer(space, row)
    return page(
        request,
        "frontend/playground.html",
        space,
        membership,
        "playground",
        fields=feature_fields(space.schema, prefix=PREFIX, values=row),
        answer=answer,
        model=selectors.model_status(space=space),
    )


@space_page
@require_POST
def playground_predict(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    row = parse_row(space.schema, request.POST, prefix=PREFIX)
    answer = _answer(space, row)
    context = {"space": space, "membership": membership, "answer": answer}
    if request.headers.get("HX-Request") != "true":  # without script: the whole page
        return page(
            request,
            "frontend/playground.html",
            space,
            membership,
            "playground",
            fields=feature_fields(
                space.schema,
                prefix=PREFIX,
                values=row_values(space.schema, request.POST, prefix=PREFIX),
                problems=answer.get("errors"),
            ),
            answer=answer,
            model=selectors.model_status(space=space),
        )
    return render(request, "frontend/_prediction.html", context)
