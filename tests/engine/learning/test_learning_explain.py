"""Every prediction names the rules that fired, the concepts that held, the nearest
examples, and the people who taught them."""

from __future__ import annotations

import json

from tests.engine.learning.learning_kit import (
    FRONT,
    KNEES,
    NONE,
    concept,
    example,
    rows,
    rule,
    trained,
)


def model():
    return trained(
        rules=[
            rule(1, "high_toss", FRONT, author="ann"),
            rule(2, "high_toss and fatigued", KNEES, author="bob", expertise="master"),
            rule(3, 'serve_type == "underhand"', NONE, author="dan"),
        ],
        concepts=[concept(author="cat")],
        examples=[
            example(10, KNEES, author="eve", toss_height_cm=90.0, fatigued=True),
            example(11, KNEES, author="fay", toss_height_cm=95.0, fatigued=True),
            example(12, FRONT, author="gus", toss_height_cm=140.0),
            example(13, NONE, author="hal", toss_height_cm=20.0, serve_type="underhand"),
        ],
    )


def test_the_explanation_lists_fired_rules_held_concepts_nearest_examples_and_people():
    taught = model()
    [explanation] = taught.explain(rows({"toss_height_cm": 91.0, "fatigued": True}))
    assert explanation.label == KNEES
    assert {r["id"] for r in explanation.rules} == {1, 2}
    for item in explanation.rules:
        assert item["reliability"] == round(taught.rule_reliability_[item["id"]], 4)
    assert {r["id"]: (r["label"], r["author"]) for r in explanation.rules} == {
        1: (FRONT, "ann"),
        2: (KNEES, "bob"),
    }
    assert explanation.concepts == ["high_toss"]
    assert [e["id"] for e in explanation.examples] == [10, 11, 12]
    distances = [e["distance"] for e in explanation.examples]
    assert distances == sorted(distances) and distances[0] < 0.01
    assert explanation.examples[0]["label"] == KNEES
    assert explanation.contributors == ["ann", "bob", "cat", "eve", "fay", "gus"]


def test_a_case_where_nothing_fires_is_explained_by_its_neighbours_only():
    [explanation] = model().explain(rows({"toss_height_cm": 25.0, "serve_type": "jump"}))
    assert explanation.rules == [] and explanation.concepts == []
    assert explanation.examples[0]["id"] == 13
    assert "hal" in explanation.contributors and "ann" not in explanation.contributors


def test_explanations_agree_with_predictions_and_have_the_api_shape():
    taught = model()
    table = rows(*({"toss_height_cm": float(t), "fatigued": t % 2 == 0} for t in range(0, 200, 9)))
    explanations = taught.explain(table)
    assert [e.label for e in explanations] == taught.predict(table)
    for explanation, probabilities in zip(explanations, taught.predict_proba(table), strict=True):
        assert list(explanation.probabilities) == list(taught.labels_)
        assert abs(sum(explanation.probabilities.values()) - 1) < 1e-5
        assert max(explanation.probabilities.values()) == round(probabilities.max(), 6)
    body = explanations[0].as_dict()
    assert set(body) == {"label", "probabilities", "explanation"}
    assert set(body["explanation"]) == {"rules", "concepts", "examples", "contributors"}
    json.dumps(body)


def test_a_model_without_examples_names_none():
    [explanation] = trained(rules=[rule(1, "high_toss", FRONT)], concepts=[concept()]).explain(
        rows({"toss_height_cm": 100.0})
    )
    assert explanation.examples == []
    assert explanation.contributors == ["ann", "cat"]
