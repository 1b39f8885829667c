from __future__ import annotations

import pytest

from mola.engine.language import Condition, ConditionError, compile_condition
from mola.engine.schema import Schema


def compile_error(text: str, schema: Schema, concepts: dict | None = None) -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        compile_condition(text, schema, concepts or {})
    return caught.value


def test_a_misspelt_feature_is_unknown_with_the_nearest_name(schema: Schema) -> None:
    error = compile_error("fatigued and tos_height_cm > 60", schema)
    assert error.code == "unknown_name"
    assert error.position == 13
    assert error.suggestion == "toss_height_cm"
    assert "toss_height_cm" in error.message


def test_a_misspelt_concept_is_suggested(schema: Schema, concepts: dict) -> None:
    error = compile_error("not hihg_toss", schema, concepts)
    assert (error.code, error.position, error.suggestion) == ("unknown_name", 4, "high_toss")


def test_case_only_differences_are_suggested(schema: Schema) -> None:
    assert compile_error("Fatigued", schema).suggestion == "fatigued"


def test_a_far_name_has_no_suggestion(schema: Schema) -> None:
    error = compile_error("zzzzqqq", schema)
    assert error.code == "unknown_name"
    assert error.suggestion is None


def test_a_misspelt_choice_suggests_the_nearest_choice(schema: Schema) -> None:
    error = compile_error('serve_type in ["jump", "flaot"]', schema)
    assert (error.code, error.position, error.suggestion) == ("unknown_choice", 23, "float")


def test_an_unquoted_choice_gets_quotes_suggested(schema: Schema) -> None:
    error = compile_error("serve_type == jump", schema)
    assert (error.code, error.position, error.suggestion) == ("type_mismatch", 14, '"jump"')


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ('toss_height_cm > "60"', "type_mismatch", 17),
        ("toss_height_cm > true", "type_mismatch", 17),
        ("serve_type == 3", "type_mismatch", 14),
        ("fatigued == 1", "type_mismatch", 12),
        ('fatigued == "true"', "type_mismatch", 12),
        ('serve_type < "jump"', "bad_operator", 11),
        ("fatigued >= true", "bad_operator", 9),
        ("serve_type between 1 and 2", "bad_operator", 11),
        ("serve_type", "not_a_predicate", 0),
        ("fatigued and toss_height_cm", "not_a_predicate", 13),
        ("5", "not_a_predicate", 0),
        ('"jump"', "not_a_predicate", 0),
        ("toss_height_cm < elbow_angle", "bad_comparison", 15),
        ("3 < 4", "bad_comparison", 2),
        ("3 between 1 and 4", "bad_comparison", 0),
        ("elbow_angle between 9 and 1", "empty_range", 20),
        ('toss_height_cm in [1, "a"]', "type_mismatch", 22),
        ("x > 1e400", "bad_number", 4),
        ("x > 1e16", "bad_number", 4),
    ],
)
def test_type_errors_have_a_code_and_position(
    schema: Schema, text: str, code: str, position: int
) -> None:
    error = compile_error(text, schema)
    assert (error.code, error.position) == (code, position)
    assert error.message


def test_dunder_names_are_just_unknown(schema: Schema) -> None:
    concepts = {"__class__": compile_condition("fatigued", schema)}
    for text in ("__class__", "_private", "a__b"):
        assert compile_error(text, schema, concepts).code == "unknown_name"


def test_a_feature_wins_over_a_concept_of_the_same_name(schema: Schema) -> None:
    shadow = compile_condition("toss_height_cm > 60", schema)
    condition = compile_condition("fatigued", schema, {"fatigued": shadow})
    assert condition.concepts == frozenset()
    assert condition.features == {"fatigued"}


def test_features_include_those_used_through_concepts(
    schema: Schema, concepts: dict[str, Condition]
) -> None:
    condition = compile_condition("risky or elbow_angle > 3", schema, concepts)
    assert condition.concepts == {"risky"}
    assert condition.features == {"toss_height_cm", "fatigued", "serve_type", "elbow_angle"}


def test_literals_on_either_side(schema: Schema) -> None:
    left = compile_condition("60 < toss_height_cm", schema)
    right = compile_condition("toss_height_cm > 60", schema)
    assert left.region.equivalent(right.region)


def test_concepts_and_booleans_compare_with_true_and_false(
    schema: Schema, concepts: dict[str, Condition]
) -> None:
    direct = compile_condition("not high_toss and fatigued", schema, concepts)
    spelled = compile_condition("high_toss == false and fatigued != false", schema, concepts)
    listed = compile_condition("high_toss in [false] and fatigued not in [false]", schema, concepts)
    assert direct.region.equivalent(spelled.region)
    assert direct.region.equivalent(listed.region)


def test_a_condition_is_immutable(schema: Schema) -> None:
    condition = compile_condition("fatigued", schema)
    with pytest.raises(AttributeError):
        condition.text = "other"  # type: ignore[misc]
