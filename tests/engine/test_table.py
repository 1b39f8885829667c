from __future__ import annotations

import math

import numpy as np

from mola.engine.schema import Schema
from mola.engine.table import FieldError, table_from_rows, validate_row
from tests.engine.conftest import serve_row


def codes(errors: list[FieldError]) -> dict[str, str]:
    return {error.field: error.code for error in errors}


def test_it_builds_typed_columns(schema: Schema) -> None:
    table = table_from_rows(
        schema,
        [serve_row(toss_height_cm=70, serve_type="jump", fatigued=True), serve_row()],
    )
    assert table.n_rows == 2
    assert table.columns["toss_height_cm"].dtype == np.float64
    assert table.columns["toss_height_cm"].tolist() == [70.0, 50.0]
    assert table.columns["serve_type"].dtype == np.int32
    assert table.columns["serve_type"].tolist() == [0, 1]
    assert table.columns["fatigued"].dtype == bool
    assert table.columns["fatigued"].tolist() == [True, False]


def test_it_codes_a_value_that_is_not_a_choice_as_minus_one(schema: Schema) -> None:
    table = table_from_rows(schema, [serve_row(serve_type="smash")])
    assert table.columns["serve_type"].tolist() == [-1]


def test_an_empty_table_has_empty_columns(schema: Schema) -> None:
    table = table_from_rows(schema, [])
    assert table.n_rows == 0
    assert all(len(column) == 0 for column in table.columns.values())


def test_a_valid_row_has_no_errors(schema: Schema) -> None:
    assert validate_row(schema, serve_row(toss_height_cm=0, elbow_angle=-3.5)) == []


def test_it_refuses_unknown_and_missing_features(schema: Schema) -> None:
    row = serve_row(height=3)
    del row["fatigued"]
    assert codes(validate_row(schema, row)) == {
        "height": "unknown_feature",
        "fatigued": "missing_feature",
    }


def test_booleans_are_not_numbers_and_numbers_are_not_booleans(schema: Schema) -> None:
    errors = validate_row(schema, serve_row(toss_height_cm=True, fatigued=1))
    assert codes(errors) == {"toss_height_cm": "wrong_type", "fatigued": "wrong_type"}


def test_it_refuses_nan_and_infinity(schema: Schema) -> None:
    for bad in (math.nan, math.inf, -math.inf, 10**400):
        assert codes(validate_row(schema, serve_row(elbow_angle=bad))) == {
            "elbow_angle": "wrong_type"
        }


def test_it_checks_min_and_max_inclusively(schema: Schema) -> None:
    assert validate_row(schema, serve_row(toss_height_cm=200)) == []
    assert codes(validate_row(schema, serve_row(toss_height_cm=200.5))) == {
        "toss_height_cm": "out_of_range"
    }
    assert codes(validate_row(schema, serve_row(toss_height_cm=-1))) == {
        "toss_height_cm": "out_of_range"
    }


def test_it_refuses_an_unknown_choice_and_a_non_text_choice(schema: Schema) -> None:
    assert codes(validate_row(schema, serve_row(serve_type="smash"))) == {
        "serve_type": "unknown_choice"
    }
    assert codes(validate_row(schema, serve_row(serve_type=1))) == {"serve_type": "wrong_type"}


def test_field_errors_serialise(schema: Schema) -> None:
    error = validate_row(schema, serve_row(serve_type="smash"))[0]
    assert error.as_dict()["code"] == "unknown_choice"
    assert "jump" in error.message
