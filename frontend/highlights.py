"""Texts of a space's examples and predictions with the words a condition matched, for the
pages (the engine finds the spans; ``marked_text`` renders them)."""

from __future__ import annotations

from typing import Any

from mola.engine.language import Condition
from mola.engine.language.highlight import condition_highlights
from mola.engine.language.text_atoms import Phrase, atom_spans
from mola.engine.schema import Schema
from mola.engine.text import highlight_spans


def text_features(schema: Schema) -> list[str]:
    return [feature.name for feature in schema.features if feature.kind == "text"]


def marked_texts(
    schema: Schema,
    conditions: list[Condition],
    values: dict[str, Any],
    words: list[str] = (),  # type: ignore[assignment]
) -> list[tuple[str, tuple[str, list[tuple[int, int]]]]]:
    """``[(feature, (text, spans))]`` for each text feature of ``values``: the spans every
    condition matched and where the ``words`` (an explanation's) appear, merged."""
    phrases = [Phrase(tuple(word.split())) for word in words if word.split()]
    result = []
    for name in text_features(schema):
        text = values.get(name)
        if not isinstance(text, str):
            continue
        spans = [
            span for condition in conditions for span in condition_highlights(condition, name, text)
        ]
        if phrases:
            spans += highlight_spans(text, [lambda n, f, p=p: atom_spans(p, n, f) for p in phrases])
        spans.sort()
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        result.append((name, (text, merged)))
    return result
