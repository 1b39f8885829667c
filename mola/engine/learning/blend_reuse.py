"""Keeping a full fit's blend for the quick retrains that follow it.

A quick retrain (``fit(…, trees="reuse")``) used to choose the blend's settings again
(rule strength, bandwidth, temperature, …: choosing.py), after learning the neighbour
encoding's weights again and the reused trees' held-out probabilities at the selected rows,
which only that choice reads: at M (500 rules, 10,000 examples) ~70 ms of its ~135 ms of
CPU, on the teacher's wait. While the training examples are within ``KEEP_EXAMPLES`` of the
ones the space's last full fit chose on (and the rules within ``KEEP_RULES``), that choice
is the one it would make again up to noise (a grid of factors of two, chosen on held-out
rows of which the new examples are a handful), so the quick retrain keeps the full fit's
settings and its encoding instead; everything the examples and rules say is still learned
afresh (the rules' reliabilities, the neighbours and their index, the vetoes). Past that, or
when the forest is fitted again (a burst, forest_fitting.quick_refit), it chooses as before.
The full fit's figures of the choice (``cv_accuracy``…) are reported with it, and
``metrics_["parameters"]["chosen_at_revision"]`` says which fit chose them (None: this one).

Not kept where the choice reads more than the examples and rules: spaces with text features
(the texts' regression and its mass), and fits where the case pool's counts joined the
rules' reliabilities (``pool_summary["rules_kept"]``: a space too young to hold examples out,
which has no choice to keep anyway). A pool that only measured them changes no choice.
The kept blend travels with the full fit's trees (``ExampleTrees.blend``), so a quick
retrain in another worker process, which takes the stored trees, keeps it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mola.engine.learning.encoding import Encoder
from mola.engine.learning.forest import ExampleTrees
from mola.engine.learning.preparation import Prepared

KEEP_EXAMPLES = 0.01  # examples added, removed or relabelled since, as a share of them
KEEP_RULES = 0.05  # rules added, removed, or with another condition or label since
# What a quick retrain takes of the full fit's choice (not its per-row losses).
CHOICE_KEYS = (
    "rule_strength",
    "bandwidth",
    "veto_reach",
    "temperature",
    "tree_mass",
    "text_mass",
    "forest_floor",
    "cv_accuracy",
    "cv_log_loss",
    "ece",
    "n_cv",
)


@dataclass(frozen=True)
class KeptBlend:
    """A full fit's blend settings and encoding, and what they were chosen on."""

    revision: int | None  # the teaching revision of the fit that chose them
    ids: np.ndarray  # sorted ids of its training examples
    labels: np.ndarray  # their labels (indices), in the same order
    concept_keys: tuple[tuple[int, str], ...]  # (id, condition text): the encoder's columns
    rules: dict[int, tuple[str, str]]  # id → (condition text, label)
    encoder: Encoder
    choice: dict[str, Any]


def keep_blend(
    trees: ExampleTrees | None,
    prep: Prepared,
    encoder: Encoder,
    choice: dict[str, Any],
    pool_summary: dict[str, Any],
) -> None:
    """After a full fit: its blend on its freshly fitted ``trees``, for the quick retrains
    that will reuse them (not where ``kept`` would refuse it anyway)."""
    if trees is None or not _plain(prep) or choice["cv_log_loss"] is None:
        return
    if pool_summary.get("rules_kept"):
        return
    order = np.argsort(prep.ids, kind="stable")
    trees.blend = KeptBlend(
        revision=trees.revision,
        ids=prep.ids[order],
        labels=prep.y[order].astype(np.int16),
        concept_keys=tuple((c.id, c.condition.text) for c in prep.concepts),
        rules=_rules(prep),
        encoder=encoder,
        choice={key: choice[key] for key in CHOICE_KEYS},
    )


def kept(prep: Prepared) -> KeptBlend | None:
    """The blend a quick retrain keeps: that of the full fit whose trees it reuses, while
    its examples and rules are about the same (module docstring); else None (choose)."""
    blend = getattr(prep.reused, "blend", None)
    if blend is None or not _plain(prep):
        return None
    if tuple((c.id, c.condition.text) for c in prep.concepts) != blend.concept_keys:
        return None  # the encoder's concept columns are positions in this list
    rules = _rules(prep)
    changed = sum(blend.rules.get(pk) != rule for pk, rule in rules.items())
    changed += len(blend.rules.keys() - rules.keys())  # removed
    if changed >= KEEP_RULES * max(1, len(blend.rules)):
        return None
    if changed_examples(blend, prep.ids, prep.y) >= KEEP_EXAMPLES * max(1, len(blend.ids)):
        return None
    return blend


def changed_examples(blend: KeptBlend, ids: np.ndarray, y: np.ndarray) -> int:
    """Training examples added, removed or relabelled since ``blend`` was chosen."""
    if not len(blend.ids):
        return len(ids)
    at = np.minimum(np.searchsorted(blend.ids, ids), len(blend.ids) - 1)
    there = blend.ids[at] == ids
    common = int(there.sum())
    relabelled = int((blend.labels[at[there]] != y[there]).sum())
    return (len(ids) - common) + (len(blend.ids) - common) + relabelled


def kept_choice(blend: KeptBlend) -> dict[str, Any]:
    """``blend``'s choice as ``choosing.choose_parameters`` returns one."""
    return {**blend.choice, "row_losses": None, "chosen_at_revision": blend.revision}


def _rules(prep: Prepared) -> dict[int, tuple[str, str]]:
    return {r.id: (r.condition.text, r.label) for r in prep.rules}


def _plain(prep: Prepared) -> bool:
    """No texts: the choice reads nothing but the examples, the rules (and the pool's counts,
    which the caller checks)."""
    return not any(f.kind == "text" for f in prep.schema.features)
