"""Texts of a space's examples and predictions with the words a condition matched, for the
pages (the engine finds the spans; ``marked_text`` renders them)."""

from __future__ import annotations

from typing import Any

from mola.engine.language import Condition
from mola.engine.language.highlight import condition_highlights
from mola.engine.schema import Schema


def text_features(schema: Schema) -> list[str]:
    return [feature.name for feature in schema.features if feature.kind == "text"]


def marked_texts(
    schema: Schema, conditions: list[Condition], values: dict[str, Any]
) -> list[tuple[str, tuple[str, list[tuple[int, int]]]]]:
    """``[(feature, (text, spans))]`` for each text feature of ``values``: the spans every
    condition matched, merged."""
    result = []
    for name in text_features(schema):
        text = values.get(name)
        if not isinstance(text, str):
            continue
        spans = sorted(
            span for condition in conditions for span in condition_highlights(condition, name, text)
        )
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        result.append((name, (text, merged)))
    return result
