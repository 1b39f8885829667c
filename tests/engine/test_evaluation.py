"""The evaluation core without Django: weighted verdicts, Krippendorff's alpha, the scorecard,
and which teachings a version's changes are put down to."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest

from mola.engine.evaluation import (
    AGREED,
    CONTESTED,
    OPEN,
    case_verdict,
    change_report,
    krippendorff_alpha,
    scorecard,
    verdicts,
)
from mola.engine.learning.explaining import Explanation

# Expertise weights as the community counts them (novice 1 … master 4).
MASTER, NOVICE = 4, 1


def test_a_master_outweighs_two_novices_who_disagree_with_her() -> None:
    labels = {"master": "toss in front", "novice1": "high elbow", "novice2": "high elbow"}
    weights = {"master": MASTER, "novice1": NOVICE, "novice2": NOVICE}
    verdict = case_verdict(labels, weights, threshold=0.6)
    # Two of three labels say "high elbow"; by weight the master's label has 4/6.
    assert verdict.shares == pytest.approx({"toss in front": 4 / 6, "high elbow": 2 / 6})
    assert (verdict.status, verdict.label) == (AGREED, "toss in front")
    # The default threshold (0.7) asks for more than 4/6: contested, never "high elbow".
    assert case_verdict(labels, weights).status == CONTESTED
    # Three novices against her: 4/7 for her label, no longer enough at 0.6.
    labels["novice3"] = "high elbow"
    weights["novice3"] = NOVICE
    assert case_verdict(labels, weights, threshold=0.6).status == CONTESTED


def test_a_case_is_open_until_it_has_enough_labels() -> None:
    verdict = case_verdict({"a": "x"}, {"a": 4})
    assert (verdict.status, verdict.label) == (OPEN, "x")
    assert case_verdict({"a": "x", "b": "x"}, {}, min_labels=3).status == OPEN


def test_a_member_who_keeps_disagreeing_with_the_agreed_labels_weighs_less() -> None:
    # Ten cases where two experts agree and "odd" says otherwise; then one case where odd
    # and one expert face the other expert.
    cases = {i: {"e1": "x", "e2": "x", "odd": "y"} for i in range(10)}
    cases[10] = {"e1": "x", "odd": "y", "e2": "y"}
    found = verdicts(cases, {"e1": 3, "e2": 3, "odd": 3}, threshold=0.6)
    # By expertise alone case 10 is 2/3 for "y" (agreed at 0.6): e1 disagreed once, odd
    # ten times out of eleven, and their weights follow.
    assert found.weights["odd"] < found.weights["e1"] < found.weights["e2"]
    assert found.agreement["odd"].share == 0.0  # on the final verdicts: case 10 is not agreed
    # With agreement in the weights "y" loses its majority on case 10.
    assert found.verdicts[10].shares["y"] < 0.6
    assert found.verdicts[10].status == CONTESTED


def test_alpha_is_the_packages_value_on_its_documented_example() -> None:
    # The reliability data of krippendorff's README / sample.py (3 coders, 15 units);
    # its documented nominal alpha is 0.691.
    data = [
        [np.nan, np.nan, np.nan, np.nan, np.nan, 3, 4, 1, 2, 1, 1, 3, 3, np.nan, 3],
        [1, np.nan, 2, 1, 3, 3, 4, 3, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan],
        [np.nan, np.nan, 2, 1, 3, 4, 4, np.nan, 2, 1, 1, 3, 3, np.nan, 4],
    ]
    cases = [
        {
            coder: str(int(data[coder][unit]))
            for coder in range(3)
            if not np.isnan(data[coder][unit])
        }
        for unit in range(15)
    ]
    alpha = krippendorff_alpha(cases, ["1", "2", "3", "4"])
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert alpha.overall == pytest.approx(expected)
    assert alpha.overall == pytest.approx(0.691, abs=5e-4)
    # Per label: that label against the rest, the package's value on the binary data.
    binary = [[np.nan if np.isnan(v) else float(v == 2) for v in coder] for coder in data]
    assert alpha.per_label["2"] == pytest.approx(
        krippendorff.alpha(reliability_data=binary, level_of_measurement="nominal")
    )


def test_alpha_is_undefined_without_two_pairable_values() -> None:
    alpha = krippendorff_alpha([{"a": "x"}, {"a": "y"}], ["x", "y"])
    assert alpha.overall is None
    assert krippendorff_alpha([{"a": "x", "b": "x"}], ["x", "y"]).overall is None


def test_scorecard_on_a_small_worked_case() -> None:
    truth = ["a", "a", "b", "b"]
    answers = ["a", "b", "b", "b"]
    card = scorecard(truth, answers, [0.9, 0.6, 0.8, 0.7], ["a", "b", "c"])
    assert card["n_cases"] == 4
    assert card["accuracy"] == 0.75
    assert card["per_label"]["a"] == {"precision": 1.0, "recall": 0.5, "support": 2}
    assert card["per_label"]["b"]["precision"] == pytest.approx(0.6667)
    assert "c" not in card["per_label"]  # neither truth nor answer: not in the macro average
    f1_a, f1_b = 2 * 0.5 / 1.5, 2 * (2 / 3) / (2 / 3 + 1)
    assert card["macro_f1"] == pytest.approx((f1_a + f1_b) / 2, abs=1e-4)
    # bins: 0.6 wrong; 0.7 right; 0.8 right; 0.9 right → |0-.6|+|1-.7|+|1-.8|+|1-.9| over 4
    assert card["ece"] == pytest.approx((0.6 + 0.3 + 0.2 + 0.1) / 4, abs=1e-4)
    assert scorecard([], [], [], ["a"])["accuracy"] is None


def _said(label: str, rules=(), examples=()) -> Explanation:
    return Explanation(
        label=label,
        probabilities={},
        rules=[{"id": i, "label": lab, "author": "x", "reliability": 0.9} for i, lab in rules],
        examples=[{"id": i, "label": lab, "distance": 1.0} for i, lab in examples],
    )


def test_a_rule_added_is_the_cause_of_exactly_the_cases_it_now_decides() -> None:
    # Rule 7 ("high elbow", new) fires on cases 1 and 2, flipping them from rule 3's
    # "no cue"; case 3's answer changed by the refit alone (rule 7 does not fire there).
    old = [
        _said("no cue", rules=[(3, "no cue")], examples=[(20, "no cue")]),
        _said("no cue", rules=[(3, "no cue")]),
        _said("no cue", rules=[(4, "no cue")], examples=[(21, "no cue")]),
    ]
    new = [
        _said("high elbow", rules=[(3, "no cue"), (7, "high elbow")], examples=[(20, "no cue")]),
        _said("high elbow", rules=[(3, "no cue"), (7, "high elbow")]),
        _said("high elbow", rules=[(4, "no cue")], examples=[(21, "no cue")]),
    ]
    report = change_report(
        case_ids=[1, 2, 3],
        truth=["high elbow", "no cue", "high elbow"],
        case_old=old,
        case_new=new,
        traffic_old=[_said("no cue", rules=[(3, "no cue")])],
        traffic_new=[_said("high elbow", rules=[(3, "no cue"), (7, "high elbow")])],
        traffic_total=5,
        changed={("rule", 7)},
        concept_ids={},
    )
    assert report.causes == {("rule", 7): {"cases": [1, 2], "answers": 1}}
    assert (report.now_right, report.now_wrong) == ([1, 3], [2])
    assert report.traffic_changed_share == pytest.approx(0.2)
    # Rule 3 and example 20 decided cases 1 and 2 before; rule 7 took them over.
    assert report.displaced == {("rule", 3): [1, 2], ("example", 20): [1]}


def test_a_change_no_explanation_names_a_changed_teaching_for_has_no_cause() -> None:
    report = change_report(
        case_ids=[1],
        truth=["x"],
        case_old=[_said("y", rules=[(1, "y")])],
        case_new=[_said("x", rules=[(1, "y")], examples=[(5, "x")])],
        traffic_old=[],
        traffic_new=[],
        traffic_total=0,
        changed=set(),  # a refit of the same teachings
        concept_ids={},
    )
    assert report.causes == {}
    assert report.now_right == [1]
    assert report.traffic_changed_share is None
