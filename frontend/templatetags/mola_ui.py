"""Small template helpers for the pages: problems by field, percentages, lookups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

register = template.Library()


@register.filter
def problems_for(errors: Mapping[str, list] | None, field: str) -> list:
    """The problems of exactly ``field`` (``__all__`` for the form's own)."""
    return list((errors or {}).get(field, []))


@register.filter
def problems_under(errors: Mapping[str, list] | None, prefix: str) -> list:
    """The problems of ``prefix`` and of every field below it (``features.3.name``)."""
    return [
        p
        for name, items in (errors or {}).items()
        if name == prefix or name.startswith(prefix + ".")
        for p in items
    ]


@register.filter
def get(mapping: Any, key: Any) -> Any:
    if isinstance(mapping, Mapping):
        return mapping.get(key, mapping.get(str(key)))
    return None


@register.filter
def percent(value: Any, digits: int = 0) -> str:
    try:
        return f"{float(value) * 100:.{int(digits)}f} %"
    except (TypeError, ValueError):
        return "—"


@register.filter
def width_percent(value: Any) -> str:
    """A CSS width for a bar, from a probability between 0 and 1."""
    try:
        return f"{min(max(float(value), 0.0), 1.0) * 100:.1f}%"
    except (TypeError, ValueError):
        return "0%"


@register.filter
def seconds(value: Any) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    return f"{number:.2f} s" if number < 10 else f"{number:.0f} s"


@register.filter
def feature_value(features: Mapping[str, Any], name: str) -> str:
    value = (features or {}).get(name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and len(value) > FOLD_AFTER:
        return marked_text((value, []))  # a long text: its start, the rest folded
    return "—" if value is None else str(value)


@register.filter
def short_value(value: Any, limit: int = 120) -> str:
    """A witness value in a line of text: long texts cut with an ellipsis."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.inclusion_tag("frontend/_field_errors.html")
def field_errors(errors: Mapping[str, list] | None, field: str, input_id: str = "") -> dict:
    """The problems of ``field``, in an element the input names with aria-describedby."""
    return {"problems": problems_for(errors, field), "input_id": input_id}


PAST = {
    "create": "created",
    "edit": "edited",
    "retire": "retired",
    "revert": "reverted",
    "endorse": "endorsed",
    "reject": "rejected",
    "rollback": "rolled back",
    "resolve": "resolved",
}


@register.filter
def past_tense(action: str) -> str:
    return PAST.get(action, action)


FOLD_AFTER = 280  # characters of a text shown before the rest is folded away


@register.filter
def marked_text(marked: Any) -> str:
    """A text with its highlighted spans in ``<mark>`` (``marked`` is ``(text, spans)``, as
    ``frontend.highlights`` gives it); a long text shows its start and folds the rest."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    text, spans = marked
    pieces, at = [], 0
    for start, end in spans:
        pieces.append(escape(text[at:start]))
        pieces.append(f'<mark class="matched">{escape(text[start:end])}</mark>')
        at = end
    pieces.append(escape(text[at:]))
    html = "".join(pieces)
    if len(text) <= FOLD_AFTER:
        return mark_safe(f'<span class="text-value">{html}</span>')
    head = escape(text[:FOLD_AFTER])
    return mark_safe(
        f'<details class="text-value folded"><summary>{head}… '
        f'<span class="muted">({len(text):,} characters)</span></summary>{html}</details>'
    )


@register.simple_tag(takes_context=True)
def dispute_tag(context, disputes: Mapping[str, Any] | None, teaching) -> str:
    """A "disputed" tag only where it informs (``consensus.selectors.notable_disputes``),
    linked to the dispute's thread, else to the teaching's contradictions."""
    found = (disputes or {}).get(f"{teaching.kind}:{teaching.pk}")
    if not found:
        return ""
    slug = context["space"].slug
    if found["thread"]:
        url = reverse("frontend:thread", args=[slug, found["thread"]])
    else:
        url = f"{reverse('frontend:contradictions', args=[slug])}?teaching={teaching.kind}:{teaching.pk}"
    return format_html(
        '<a class="tag disputed" href="{}" title="most severe open dispute: {}">disputed</a>',
        url,
        f"{found['severity']:.2f}",
    )
