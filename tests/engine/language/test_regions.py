from __future__ import annotations

import math

import pytest

from mola.engine.language import (
    MAX_BOXES,
    Box,
    Condition,
    ConditionError,
    Interval,
    Region,
    compile_condition,
)
from mola.engine.schema import Schema
from mola.engine.table import validate_row


def region(text: str, schema: Schema, concepts: dict | None = None) -> Region:
    return compile_condition(text, schema, concepts or {}).region


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            'toss_height_cm between 60 and 75 and serve_type == "jump"',
            "toss_height_cm is 60\u201375 cm and serve_type is jump",
        ),
        ("elbow_angle > 100", "elbow_angle is above 100"),
        ("elbow_angle <= -2.5", "elbow_angle is at most -2.5"),
        ("elbow_angle >= 1 and elbow_angle < 2", "elbow_angle is at least 1 and below 2"),
        ("elbow_angle == 0.1", "elbow_angle is 0.1"),
        ("fatigued", "fatigued is true"),
        ("not fatigued", "fatigued is false"),
        ('serve_type != "jump"', "serve_type is not jump"),
        ("toss_height_cm > 60", "toss_height_cm is above 60 cm"),  # max 200 goes unsaid
        ("fatigued or elbow_angle < 0", "elbow_angle is below 0; or fatigued is true"),
        ("elbow_angle != 5", "elbow_angle is not 5"),
        ("elbow_angle not in [1, 2]", "elbow_angle is none of 1, 2"),
        (
            "toss_height_cm between 10 and 50 and toss_height_cm != 20",
            "toss_height_cm is 10\u201350 cm except 20 cm",
        ),
        ("true", "every case"),
        ("fatigued and not fatigued", "no case"),
    ],
)
def test_describe_reads_like_a_coach_talks(schema: Schema, text: str, words: str) -> None:
    described = region(text, schema).describe()
    assert set(described.split("; or ")) == set(words.split("; or "))


def test_regions_are_clipped_to_the_schema_domain(schema: Schema) -> None:
    assert region("toss_height_cm > 200", schema).is_empty()
    assert region("toss_height_cm >= 200", schema).witness()["toss_height_cm"] == 200
    assert region("toss_height_cm >= 0", schema).is_everything()
    assert region('serve_type in ["jump", "float", "underhand"]', schema).is_everything()
    assert region("fatigued or not fatigued", schema).is_everything()


def test_open_and_closed_ends_are_exact(schema: Schema) -> None:
    above, at_most = region("elbow_angle > 60", schema), region("elbow_angle <= 60", schema)
    assert above.intersect(at_most).is_empty()
    assert above.union(at_most).is_everything()
    assert above.complement().equivalent(at_most)
    assert not region("elbow_angle >= 60", schema).intersect(at_most).is_empty()


def test_not_equal_is_two_boxes(schema: Schema) -> None:
    result = region("elbow_angle != 5", schema)
    assert len(result.boxes) == 2
    assert not result.contains(region("elbow_angle == 5", schema))
    assert result.contains(region("elbow_angle > 5", schema))


def test_witness_picks_readable_points(schema: Schema) -> None:
    witness = region('toss_height_cm between 60 and 75 and serve_type != "jump"', schema).witness()
    assert witness == {
        "toss_height_cm": 67.5,
        "elbow_angle": 0.0,
        "serve_type": "float",
        "fatigued": False,
    }
    assert region("elbow_angle > 100", schema).witness()["elbow_angle"] == 101
    assert region("elbow_angle < -3", schema).witness()["elbow_angle"] == -4
    assert region("fatigued", schema).witness()["fatigued"] is True
    assert region("toss_height_cm != 100", schema).witness()["toss_height_cm"] == 50
    assert region("false", schema).witness() is None


def test_witness_of_a_tiny_open_interval_is_inside(schema: Schema) -> None:
    low = 1.0
    high = math.nextafter(math.nextafter(low, 2), 2)
    tiny = region(f"elbow_angle > {low!r} and elbow_angle < {high!r}", schema)
    value = tiny.witness()["elbow_angle"]
    assert low < value < high


def test_an_interval_with_no_float_inside_is_empty(schema: Schema) -> None:
    low, high = 1.0, math.nextafter(1.0, 2)
    assert region(f"elbow_angle > {low!r} and elbow_angle < {high!r}", schema).is_empty()


def test_witnesses_are_valid_rows(schema: Schema) -> None:
    for text in ("toss_height_cm < 10", "elbow_angle between 3 and 4", "true"):
        witness = region(text, schema).witness()
        assert witness is not None
        assert validate_row(schema, witness) == []


def test_concept_regions_compose(schema: Schema, concepts: dict[str, Condition]) -> None:
    risky = region("risky", schema, concepts)
    assert risky.equivalent(
        region('toss_height_cm > 60 and fatigued and serve_type == "jump"', schema)
    )
    assert region("not risky", schema, concepts).equivalent(risky.complement())
    assert region("high_toss", schema, concepts).contains(risky)
    assert not risky.contains(region("high_toss", schema, concepts))


def test_everything_and_nothing(schema: Schema) -> None:
    everything, nothing = Region.everything(schema), Region.nothing(schema)
    assert everything.complement().is_empty()
    assert nothing.complement().equivalent(everything)
    assert everything.boxes == (Box({}),)
    assert nothing.boxes == ()
    assert everything.contains(nothing) and not nothing.contains(everything)


def test_where_builds_one_clipped_box(schema: Schema) -> None:
    built = Region.where(schema, {"toss_height_cm": Interval(-10, 10, True, False)})
    assert built.boxes[0].constraints["toss_height_cm"] == Interval(0, 10, True, False)


def test_boxes_hash_and_compare_by_constraints() -> None:
    first = Box({"a": Interval(1, 2, True, True), "b": frozenset({"x"})})
    second = Box({"b": frozenset({"x"}), "a": Interval(1, 2, True, True)})
    assert first == second and hash(first) == hash(second)


def test_too_many_numbers_in_a_list_is_too_complex(schema: Schema) -> None:
    numbers = ",".join(str(i) for i in range(MAX_BOXES + 1))
    with pytest.raises(ConditionError) as caught:
        region(f"elbow_angle in [{numbers}]", schema)
    assert caught.value.code == "too_complex"


def test_a_product_of_unions_is_too_complex() -> None:
    # Each "!=" is two boxes; ten of them on ten features are 2**10 boxes that cannot merge.
    wide = Schema.from_dicts(
        [{"name": f"f{i}", "kind": "number"} for i in range(10)], [{"name": "a"}, {"name": "b"}]
    )
    text = " and ".join(f"f{i} != 0" for i in range(10))
    with pytest.raises(ConditionError) as caught:
        region(text, wide)
    assert caught.value.code == "too_complex"
    assert len(region(" and ".join(f"f{i} != 0" for i in range(8)), wide).boxes) == 256
