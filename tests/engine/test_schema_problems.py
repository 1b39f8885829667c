"""Each problem a schema's features can have is named by field and code (engine only)."""

import pytest

from mola.engine.schema import MAX_CHOICES, schema_problems

LABELS = [{"name": "yes"}, {"name": "no"}]


@pytest.mark.parametrize(
    ("feature", "field", "code"),
    [
        ({"name": "x", "kind": "colour"}, "features.0.kind", "invalid_choice"),
        ({"name": "x", "kind": "number", "min": "low"}, "features.0.min", "invalid"),
        ({"name": "x", "kind": "number", "max": True}, "features.0.max", "invalid"),
        ({"name": "x", "kind": "number", "min": 5, "max": 5}, "features.0.max", "invalid_range"),
        ({"name": "x", "kind": "category"}, "features.0.choices", "required"),
        (
            {"name": "x", "kind": "category", "choices": [f"c{i}" for i in range(MAX_CHOICES + 1)]},
            "features.0.choices",
            "too_many",
        ),
        ({"name": "x", "kind": "category", "choices": ["a", ""]}, "features.0.choices", "invalid"),
        (
            {"name": "x", "kind": "category", "choices": ["a", "a"]},
            "features.0.choices",
            "duplicate",
        ),
        ({"name": "x", "kind": "number", "choices": ["a"]}, "features.0.choices", "invalid"),
        ({"name": "x", "kind": "number", "max_length": 10}, "features.0.max_length", "invalid"),
    ],
)
def test_a_bad_feature_is_refused_by_field_and_code(feature, field, code) -> None:
    problems = schema_problems([feature], LABELS)
    assert [(p["field"], p["code"]) for p in problems] == [(field, code)]


def test_good_features_have_no_problem() -> None:
    features = [
        {"name": "age", "kind": "number", "min": 0, "max": 120},
        {"name": "sport", "kind": "category", "choices": ["swim", "run"]},
        {"name": "note", "kind": "text", "max_length": 500},
    ]
    assert schema_problems(features, LABELS) == []
