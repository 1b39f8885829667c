"""Rules shape the model; reliability comes from expertise and evidence; precedence holds."""

from __future__ import annotations

import numpy as np

from tests.engine.learning.learning_kit import (
    FRONT,
    KNEES,
    NONE,
    concept,
    example,
    predict_one,
    rows,
    rule,
    trained,
)


def test_a_model_of_rules_only_follows_the_rules():
    model = trained(
        rules=[
            rule(1, "toss_height_cm > 60", FRONT),
            rule(2, 'serve_type == "underhand" and toss_height_cm <= 60', KNEES),
            rule(3, "fatigued and toss_height_cm <= 60", NONE),
        ]
    )
    assert predict_one(model, toss_height_cm=150.0) == FRONT
    assert predict_one(model, toss_height_cm=61.0, elbow_angle=10.0) == FRONT
    assert predict_one(model, serve_type="underhand") == KNEES
    assert predict_one(model, fatigued=True, toss_height_cm=20.0) == NONE
    probabilities = model.predict_proba(rows({"toss_height_cm": 150.0}))[0]
    assert probabilities[0] > 0.5  # FRONT, clearly above the uniform 1/3


def test_where_no_rule_fires_and_nothing_was_shown_the_model_is_uniform():
    model = trained(rules=[rule(1, "toss_height_cm > 60", FRONT)])
    probabilities = model.predict_proba(rows({"toss_height_cm": 10.0}))[0]
    np.testing.assert_allclose(probabilities, [1 / 3] * 3)


def test_a_rule_over_a_concept_fires_where_the_concept_holds():
    model = trained(rules=[rule(1, "high_toss and fatigued", KNEES)], concepts=[concept()])
    assert predict_one(model, toss_height_cm=90.0, fatigued=True) == KNEES
    [explanation] = model.explain(rows({"toss_height_cm": 90.0, "fatigued": True}))
    assert [r["id"] for r in explanation.rules] == [1]
    assert explanation.concepts == ["high_toss"]
    [outside] = model.explain(rows({"toss_height_cm": 30.0, "fatigued": True}))
    assert outside.rules == [] and outside.concepts == []


def test_a_contradicted_rule_is_less_reliable_than_a_confirmed_one():
    confirmed = rule(1, "toss_height_cm > 60", FRONT)
    contradicted = rule(2, 'serve_type == "jump" and toss_height_cm <= 60', NONE)
    examples = [example(10 + i, FRONT, toss_height_cm=70.0 + 10 * i) for i in range(5)]
    examples += [
        example(20 + i, KNEES, serve_type="jump", toss_height_cm=10.0 + 5 * i) for i in range(5)
    ]
    model = trained(rules=[confirmed, contradicted], examples=examples)
    prior_mean = 7.0 / 8.0  # an expert's
    assert model.rule_reliability_[1] > prior_mean > model.rule_reliability_[2]
    by_id = {r["id"]: r for r in model.metrics_["rules"]}
    assert by_id[1]["coverage"] == 5 and by_id[2]["coverage"] == 5
    assert by_id[2]["agree"] == 0 and by_id[2]["disagree"] == 5


def test_a_masters_word_starts_above_a_novices_and_outweighs_it():
    master = rule(1, "toss_height_cm > 60", FRONT, author="mia", expertise="master")
    novice = rule(2, "toss_height_cm > 60", NONE, author="nik", expertise="novice")
    model = trained(rules=[master, novice])
    assert model.rule_reliability_[1] > model.rule_reliability_[2]
    assert predict_one(model, toss_height_cm=100.0) == FRONT


def test_evidence_against_the_master_overturns_the_prior():
    master = rule(1, "toss_height_cm > 60", FRONT, author="mia", expertise="master")
    novice = rule(2, "toss_height_cm > 60", NONE, author="nik", expertise="novice")
    examples = [example(10 + i, NONE, toss_height_cm=61.0 + 6 * i) for i in range(20)]
    model = trained(rules=[master, novice], examples=examples)
    assert model.rule_reliability_[1] < model.rule_reliability_[2]


def test_a_precedence_silences_the_losers_vote_where_both_fire():
    general = rule(1, "toss_height_cm > 60", FRONT)
    tired = rule(2, "fatigued", NONE, author="mia", expertise="master")
    without = trained(rules=[general, tired])
    assert predict_one(without, toss_height_cm=100.0, fatigued=True) == NONE
    model = trained(rules=[general, tired], precedences=[(1, 2)])
    assert predict_one(model, toss_height_cm=100.0, fatigued=True) == FRONT
    [explanation] = model.explain(rows({"toss_height_cm": 100.0, "fatigued": True}))
    assert [r["id"] for r in explanation.rules] == [1]
    # Where only the loser fires it still speaks.
    assert predict_one(model, toss_height_cm=10.0, fatigued=True) == NONE


def test_a_settled_exception_does_not_count_against_the_general_rule():
    general = rule(1, "toss_height_cm > 60", FRONT)
    exception = rule(2, "toss_height_cm > 60 and fatigued", NONE)
    examples = [example(10 + i, NONE, toss_height_cm=80.0 + i, fatigued=True) for i in range(4)]
    unsettled = trained(rules=[general, exception], examples=examples)
    settled = trained(rules=[general, exception], examples=examples, precedences=[(2, 1)])
    assert settled.rule_reliability_[1] > unsettled.rule_reliability_[1]
    assert predict_one(settled, toss_height_cm=81.0, fatigued=True) == NONE
    assert predict_one(settled, toss_height_cm=150.0) == FRONT


def test_a_disputed_rule_still_counts_but_less():
    plain = trained(rules=[rule(1, "toss_height_cm > 60", FRONT)])
    disputed = trained(rules=[rule(1, "toss_height_cm > 60", FRONT, disputed=True)])
    high = rows({"toss_height_cm": 100.0})
    assert disputed.predict(high) == [FRONT]
    assert disputed.predict_proba(high)[0, 0] < plain.predict_proba(high)[0, 0]
    assert disputed.explain(high)[0].rules[0]["disputed"] is True
