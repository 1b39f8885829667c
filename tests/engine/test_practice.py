"""Ranking the practice queue: margin sampling plus reasons; the order per expertise."""

import numpy as np

from mola.engine.practice import examples_disagree, for_expertise, margins, rank


def test_the_closest_call_comes_first_and_reasons_break_ties():
    probabilities = np.array([[0.9, 0.1], [0.55, 0.45], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    conflicted = np.array([False, False, False, True, False])
    covered = np.array([True, True, True, True, False])
    ranked = rank(probabilities, conflicted, covered)
    assert ranked.order.tolist() == [3, 4, 2, 1, 0]
    assert ranked.reasons == ["uncertain", "uncertain", "uncertain", "conflict", "uncovered"]
    assert np.allclose(margins(probabilities), [0.8, 0.1, 0.0, 0.0, 0.0])


def test_disagreeing_neighbours_within_reach_only():
    labels = [["a", "b"], ["a", "b"], ["a", "a"]]
    distances = [[0.1, 0.2], [0.1, 5.0], [0.1, 0.1]]
    assert examples_disagree(labels, distances, reach=1.0).tolist() == [True, False, False]
    ranked = rank(
        np.full((3, 2), 0.5),
        np.zeros(3, bool),
        np.ones(3, bool),
        examples_disagree(labels, distances, reach=1.0),
    )
    assert ranked.reasons[0] == "experts_disagree" and ranked.order[0] == 0


def test_experts_get_the_hardest_first_and_novices_the_easiest():
    order = np.array([2, 0, 1])
    difficulty = np.array([0.5, 0.9, 0.1])
    assert for_expertise(order, difficulty, "master").tolist() == [1, 0, 2]
    assert for_expertise(order, difficulty, "novice").tolist() == [2, 0, 1]
    assert for_expertise(order, difficulty, "intermediate").tolist() == [2, 0, 1]
