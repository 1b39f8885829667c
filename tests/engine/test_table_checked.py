"""Checking rows a column at a time refuses exactly the rows ``validate_row`` refuses, and
builds the table ``table_from_rows`` builds from the rest."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mola.engine.schema import Schema
from mola.engine.table import checked_table, table_from_rows, validate_row
from tests.engine.conftest import SERVE_FEATURES, SERVE_LABELS, serve_row

SCHEMA = Schema.from_dicts(SERVE_FEATURES, SERVE_LABELS)

# Every kind of value a JSON body can hold, with the edges each check cares about.
any_value = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 200, 201, -1, 10**400, 2**64, 0.0, -0.0, 200.0000001]),
    st.integers(),
    st.booleans(),
    st.none(),
    st.sampled_from(["jump", "float", "underhand", "smash", "", "Jump"]),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
feature_names = [f["name"] for f in SERVE_FEATURES]


@st.composite
def rows(draw):
    """Mostly valid rows, each with a chance of a wrong, missing or extra field."""
    row = serve_row(
        toss_height_cm=draw(st.floats(0, 200)),
        elbow_angle=draw(st.one_of(st.floats(-1e6, 1e6), st.integers(-(10**6), 10**6))),
        serve_type=draw(st.sampled_from(["jump", "float", "underhand"])),
        fatigued=draw(st.booleans()),
    )
    change = draw(st.integers(0, 9))
    if change == 1:
        row[draw(st.sampled_from(feature_names))] = draw(any_value)
    elif change == 2:
        del row[draw(st.sampled_from(feature_names))]
    elif change == 3:
        row[draw(st.sampled_from(["toss", "Fatigued", "x"]))] = 1
    elif change == 4:
        return draw(st.one_of(st.none(), st.lists(st.integers(), max_size=2), st.text()))
    elif change == 5:  # as many keys as features, one of them misspelled
        row["Fatigued"] = row.pop(draw(st.sampled_from(feature_names)))
    return row


@settings(max_examples=300, deadline=None)
@given(st.lists(rows(), max_size=12))
def test_it_refuses_exactly_what_validate_row_refuses(batch):
    table, refused = checked_table(SCHEMA, batch)
    assert refused == [
        i for i, row in enumerate(batch) if not isinstance(row, dict) or validate_row(SCHEMA, row)
    ]
    assert table.n_rows == len(batch)
    kept = [i for i in range(len(batch)) if i not in refused]
    expected = table_from_rows(SCHEMA, [batch[i] for i in kept])
    for name, column in expected.columns.items():
        assert table.columns[name].dtype == column.dtype
        assert table.columns[name][kept].tolist() == column.tolist()


def test_each_kind_of_wrong_value_is_caught_in_its_column():
    batch = [
        serve_row(),
        serve_row(toss_height_cm=201),
        serve_row(elbow_angle=math.nan),
        serve_row(elbow_angle=10**400),
        serve_row(serve_type="smash"),
        serve_row(serve_type=1),
        serve_row(fatigued=1),
        serve_row(toss_height_cm=True),
        {k: v for k, v in serve_row().items() if k != "fatigued"},
        {**serve_row(), "extra": 1},
        "not a row",
        serve_row(toss_height_cm=200, elbow_angle=-(10**6)),
    ]
    table, refused = checked_table(SCHEMA, batch)
    assert refused == list(range(1, 11))
    assert table.columns["toss_height_cm"][[0, 11]].tolist() == [50.0, 200.0]


def test_an_empty_batch_is_an_empty_table():
    table, refused = checked_table(SCHEMA, [])
    assert refused == [] and table.n_rows == 0
    assert all(len(column) == 0 for column in table.columns.values())
    assert table.columns["serve_type"].dtype == np.int32
