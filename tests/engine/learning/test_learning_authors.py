"""A saboteur who declares themself an expert and backs their wrong rule with their own wrong
examples: the examples of everyone else contradict them, the forest finds their labels
doubtful, and their rule loses its weight."""

from __future__ import annotations

from mola.engine.learning import fit, forest, forest_trust
from mola.engine.learning.caching import FitCache
from tests.engine.learning.learning_kit import (
    FRONT,
    KNEES,
    NONE,
    example,
    predict_one,
    rows,
    rule,
    snapshot,
    trained,
)

HONEST = rule(1, "toss_height_cm > 60", FRONT, author="mia", expertise="expert")
SABOTAGE = rule(2, "toss_height_cm > 60", NONE, author="sam", expertise="expert")
# 40 honest examples: high tosses are FRONT, low ones KNEES.
HONEST_EXAMPLES = [
    example(
        100 + i,
        FRONT if i % 2 else KNEES,
        author=("eve", "ian")[i % 4 // 2],
        toss_height_cm=(62.0 + 3.5 * (i % 40)) if i % 2 else (2.0 + 1.4 * (i % 40)),
        elbow_angle=40.0 + (i * 37) % 120,
    )
    for i in range(40)
]
# 14 of the saboteur's: high tosses among the honest ones, labelled as their rule says.
SABOTEUR_EXAMPLES = [
    example(
        300 + i,
        NONE,
        author="sam",
        toss_height_cm=64.0 + 9.0 * i,
        elbow_angle=45.0 + (i * 53) % 110,
    )
    for i in range(14)
]


def test_the_saboteurs_rule_loses_weight_once_examples_contradict_it():
    rules_only = trained(rules=[HONEST, SABOTAGE])
    # Alike by their authors' word: the rules tie.
    assert rules_only.rule_reliability_[1] == rules_only.rule_reliability_[2]
    model = trained(rules=[HONEST, SABOTAGE], examples=[*HONEST_EXAMPLES, *SABOTEUR_EXAMPLES])
    assert model.trees_ is not None
    assert model.metrics_["parameters"]["forest_floor"] > 0.5  # 54 examples: a floor
    assert model.trees_.author_trust.get("sam", 1.0) < 0.5  # their labels are doubted
    trust = model.trees_.author_trust
    assert trust.get("eve", 1.0) > 0.9 and trust.get("ian", 1.0) > 0.9
    # sam's rule falls below a coin; mia's stays trusted (sam's discounted examples still
    # weigh a little against it).
    assert model.rule_reliability_[2] < 0.5 < 0.8 < model.rule_reliability_[1]
    assert predict_one(model, toss_height_cm=100.0, elbow_angle=90.0) == FRONT
    assert predict_one(model, toss_height_cm=20.0, elbow_angle=90.0) == KNEES


def test_the_saboteurs_own_examples_no_longer_vouch_for_their_rule():
    # Counted at their declared weight, sam's 14 examples would keep their rule trusted.
    model = trained(rules=[HONEST, SABOTAGE], examples=[*HONEST_EXAMPLES, *SABOTEUR_EXAMPLES])
    by_id = {r["id"]: r for r in model.metrics_["rules"]}
    assert by_id[2]["agree"] < 0.5 * len(SABOTEUR_EXAMPLES)
    [explanation] = model.explain(rows({"toss_height_cm": 100.0, "elbow_angle": 90.0}))
    decides = {r["id"]: r["decides"] for r in explanation.rules}
    assert explanation.label == FRONT and decides[1]  # the honest rule decided FRONT
    # sam's rule, trusted below chance, votes nothing for its own label: where it takes part
    # in FRONT it is as a rule the examples contradict (evidence.vote_matrix), never for NONE.
    assert model.rules_.votes[1, model.labels_.index(NONE)] == 0
    assert model.rules_.votes[1, model.labels_.index(FRONT)] > 0 or not decides[2]


def test_switching_off_the_rules_an_explanation_says_decide_lowers_its_answer():
    # Two rules with one condition: the forest may read either column, so a rule's vote
    # alone does not say whether it decides; the explanation checks on the whole model.
    model = trained(rules=[HONEST, SABOTAGE], examples=[*HONEST_EXAMPLES, *SABOTEUR_EXAMPLES])
    cases = rows(
        *(
            {"toss_height_cm": t, "elbow_angle": a}
            for t in (10.0, 61.0, 90.0, 150.0)
            for a in (50.0, 130.0)
        )
    )
    explanations = model.explain(cases)
    without = [[r["id"] for r in e.rules if r["decides"]] for e in explanations]
    assert sum(map(bool, without)) >= 4  # the high tosses name the honest rule
    before = model.predict_proba(cases)
    after = model.predict_proba(cases, without=without)
    for i, named in enumerate(without):
        label = before[i].argmax()
        if named:
            assert after[i, label] < before[i, label]
        assert set(named) <= {r["id"] for r in explanations[i].rules}


def test_a_refit_keeps_the_discounts_learned_on_about_the_same_examples(monkeypatch):
    # Beyond GRID_ROWS (here lowered to 20) a fit with the space's cache keeps the last
    # search's setting and, while no author's examples changed by more than TRUST_SHRINK,
    # the authors' discounts: one discounted forest, not a plain one to learn them from
    # and a discounted one.
    monkeypatch.setattr(forest, "GRID_ROWS", 20)
    monkeypatch.setattr(forest, "LARGE_TREES", forest.TREES_PER_PART)  # one part a forest
    monkeypatch.setattr(forest_trust, "SETTLED_CHANGE", 0.5)  # the setting stays settled here
    cache = FitCache()
    parts = dict(rules=[HONEST, SABOTAGE])
    first = fit(snapshot(**parts, examples=[*HONEST_EXAMPLES, *SABOTEUR_EXAMPLES]), cache=cache)
    sam = first.trees_.author_trust["sam"]
    assert sam < 0.5 and first.trees_.trust_counts["sam"] == len(SABOTEUR_EXAMPLES)
    one_more = example(199, KNEES, author="eve", toss_height_cm=10.0, elbow_angle=80.0)
    asked = []
    again = fit(
        snapshot(**parts, examples=[*HONEST_EXAMPLES, *SABOTEUR_EXAMPLES, one_more]),
        cache=cache,
        cancelled=lambda: asked.append(1),
    )
    assert len(asked) == 1  # before its one forest
    assert again.trees_.author_trust == first.trees_.author_trust
    assert again.trees_.trust_counts == first.trees_.trust_counts  # as when learned
    assert again.rule_reliability_[2] < 0.5 < 0.8 < again.rule_reliability_[1]
    # eve teaches 11 more (over TRUST_SHRINK): the discounts are learned again.
    more = [
        example(
            400 + i,
            FRONT if i % 2 else KNEES,
            author="eve",
            toss_height_cm=(65.0 + 6 * i) if i % 2 else (5.0 + 3 * i),
            elbow_angle=50.0 + 9 * i,
        )
        for i in range(11)
    ]
    asked.clear()
    later = fit(
        snapshot(**parts, examples=[*HONEST_EXAMPLES, *SABOTEUR_EXAMPLES, one_more, *more]),
        cache=cache,
        cancelled=lambda: asked.append(1),
    )
    assert len(asked) == 2  # the plain forest, then the discounted one
    assert later.trees_.trust_counts["eve"] == first.trees_.trust_counts["eve"] + 12
    assert later.trees_.author_trust["sam"] < 0.5
