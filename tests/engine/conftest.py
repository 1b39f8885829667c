"""Shared fixtures for the engine tests: a volleyball-serve schema and a few concepts."""

from __future__ import annotations

import pytest

from mola.engine.language import Condition, compile_condition
from mola.engine.schema import Schema

SERVE_FEATURES = [
    {"name": "toss_height_cm", "kind": "number", "min": 0, "max": 200, "unit": "cm"},
    {"name": "elbow_angle", "kind": "number"},
    {"name": "serve_type", "kind": "category", "choices": ["jump", "float", "underhand"]},
    {"name": "fatigued", "kind": "boolean"},
]
SERVE_LABELS = [{"name": "toss in front"}, {"name": "no cue"}]


@pytest.fixture
def schema() -> Schema:
    return Schema.from_dicts(SERVE_FEATURES, SERVE_LABELS)


@pytest.fixture
def concepts(schema: Schema) -> dict[str, Condition]:
    high_toss = compile_condition("toss_height_cm > 60", schema)
    tired_jump = compile_condition('fatigued and serve_type == "jump"', schema)
    risky = compile_condition(
        "high_toss and tired_jump", schema, {"high_toss": high_toss, "tired_jump": tired_jump}
    )
    return {"high_toss": high_toss, "tired_jump": tired_jump, "risky": risky}


def serve_row(**values: object) -> dict[str, object]:
    """A valid row of the serve schema with defaults for the features not given."""
    row: dict[str, object] = {
        "toss_height_cm": 50.0,
        "elbow_angle": 90.0,
        "serve_type": "float",
        "fatigued": False,
    }
    row.update(values)
    return row
