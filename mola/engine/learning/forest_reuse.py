"""Reusing the space's last fitted trees in a quick retrain.

Owns: whether the last fit's trees still fit this fit's inputs, and mapped onto them
(``reusable_trees``), the rows where reused trees can be judged honestly
(``reuse_candidates``) and their held-out probabilities there (``reused_out_of_fold``).
The trees themselves: forest.py.
"""

from __future__ import annotations

import copy

import numpy as np

from mola.engine.learning.arrays import table_take
from mola.engine.learning.forest import ExampleTrees
from mola.engine.schema import Schema
from mola.engine.table import Table


def reusable_trees(
    previous: ExampleTrees | None,
    schema: Schema,
    concept_keys: list[tuple[int, str]],
    rule_keys: list[tuple[int, str]],
) -> ExampleTrees | None:
    """``previous`` (a fit of the same space) ready for this fit, or None when its inputs no
    longer exist: another schema or labels, or a concept column it reads is gone or changed.

    Rules may come and go: a rule column whose rule is gone reads "never fires"; a rule
    added since has no column (the forest gives way where it fires: ``unseen``).
    ``*_keys``: (id, condition text) of this fit's concepts and rules, in matcher order.
    """
    if previous is None or previous.revision is None or previous.legacy:
        return None
    features = [(f.name, f.kind, len(f.choices)) for f in schema.features]
    if previous.features != features or previous.label_names != schema.label_names:
        return None
    concept_at = {key: i for i, key in enumerate(concept_keys)}
    if any(key not in concept_at for key in previous.concept_keys):
        return None
    rule_at = {key: i for i, key in enumerate(rule_keys)}
    trees = copy.copy(previous)  # shares the fitted forest, which nothing changes
    trees._flat = previous._flat
    trees.concepts = np.array([concept_at[key] for key in previous.concept_keys], dtype=np.int64)
    trees.rules = np.array([rule_at.get(key, -1) for key in previous.rule_keys], dtype=np.int64)
    known = set(previous.known_rule_keys)
    trees.unseen = np.array([key not in known for key in rule_keys], dtype=bool)
    return trees


def reuse_candidates(trees: ExampleTrees, ids: np.ndarray) -> np.ndarray:
    """Rows (positions in ``ids``, the training examples' ids) where reused trees can be
    judged honestly: the forest never saw them (examples added since, or left out of its
    fit), or their out-of-bag probability was kept from the fit."""
    unseen = ~np.isin(ids, trees.fitted_ids)
    return np.flatnonzero(unseen | np.isin(ids, trees.calibration_ids))


def reused_out_of_fold(
    trees: ExampleTrees,
    table: Table,
    fired_selected: np.ndarray,
    held: np.ndarray,
    ids: np.ndarray,
    selected: np.ndarray,
) -> np.ndarray:
    """Held-out probabilities of reused trees at the ``selected`` rows (taken among
    ``reuse_candidates``): their predictions where they never saw the row, the kept
    out-of-bag probability where they did. ``fired_selected`` (rules × selected, after
    precedence) and ``held`` (concepts × rows) are the preparation's: the rows are not
    matched again (a third of a quick retrain's matching at M)."""
    part = table_take(table, selected)
    out = trees.probabilities(trees.encode(part, fired_selected, held[:, selected]))
    seen = np.isin(ids[selected], trees.fitted_ids)
    if seen.any():
        at = np.searchsorted(trees.calibration_ids, ids[selected][seen])
        out[seen] = trees.calibration_probabilities[at]
    return out
