"""The learning engine: a snapshot of teachings → a model that predicts and explains.

    model = fit(snapshot, random_state=0)
    model.predict(table), model.predict_proba(table), model.explain(table)
    model.metrics_, model.rule_reliability_, model.to_bytes(), TaughtModel.from_bytes(b)

How a prediction is made — evidence counted as pseudo-counts per label, at the case x:

    counts(x) = s · (α·prior + Σ_{rules firing at x, not overruled} votes)
              + Σ_{nearest examples e within 3h} weight(e) · exp(−‖x − e‖² / 2h²) · [label(e)]
              + c · support(x) · p_trees(x)            (with ≥ 50 examples; boosting.py)
    probabilities(x) ∝ (counts(x) / Σ counts(x)) ^ (1/T)

The last term is the examples' evidence at scale: gradient-boosted trees fitted on the
examples, whose features are the case's values, the concepts and the rules' votes at their
authors' prior reliability; support(x) = exp(−d²/2R²) fades them out with the distance d to
the nearest example (cut at 3R, R twice the typical distance between neighbouring examples);
next to a counterexample p_trees gives way to the counterexample's label.

Why this shape, principle by principle (docs: "How the model learns"):

1. *Rules shape predictions where no example exists.* Far from every example the kernel and
   tree terms are exactly zero (cut at three bandwidths, three reaches), so what is left is
   the teaching prior and the votes of the rules that fire: a teacher who wrote only rules
   gets their rules.
2. *Examples override rules locally.* An example's pull decays with distance at a bandwidth
   h chosen on the examples themselves, so a counterexample outweighs a rule next to itself
   and is invisible across the rest of the rule's region. A counterexample (an example that
   names the rule it refutes) counts double: it is a deliberate "not here" — and the trees,
   which would average a lone example away, hand their weight to it next to it.
3. *Concepts are features.* Rules over concepts fire through the condition evaluator; and
   concept truth values are coordinates of the neighbour space, weighted by how much they
   tell the labels apart, so examples on the other side of a concept's boundary are far.
4. *Reliability from evidence, prior from expertise.* Each rule's reliability ρ is the Beta
   posterior mean of "the label is mine where I fire": prior pseudo-counts by the author's
   level (master 15:1, expert 7:1, intermediate 3.2:0.8, novice 1.4:0.6 — a master starts
   higher *and* takes more contrary evidence to move), updated by the weighted training
   examples it covers. A firing rule puts ρ on its label and 1−ρ on the others, so a rule
   its examples contradict loses its say, down to voting against itself.
5. *Disputed teachings still count*, at half weight, and are flagged in explanations.
   Evaluation examples never enter the tables the model learns from; they are scored only.
6. *Calibration.* The free numbers — rule strength s, bandwidth h, the trees' mass c (0
   turns them off), temperature T — are chosen by leave-one-out log loss (out-of-fold for
   the trees) on (a seeded sample of) the training examples, with each held-out example
   also removed from the reliabilities it fed. The same held-out
   predictions give ``cv_accuracy`` and the expected calibration error ``ece``.
7. *Precedence.* Where a recorded winner fires, its losers' votes are removed before any
   counting — also from the losers' coverage, so an exception that has been settled does
   not keep lowering the general rule's reliability.

Why it is fast: every rule's and concept's exact region is flattened into interval and
choice tests evaluated vectorised over whole columns (matching.py); rule votes and per-rule
label counts are matrix products; the neighbours are exact brute force with one BLAS
product per block and a group-minimum prefilter (trees do not prune in 20–60 dimensions),
over at most 16,384 stored examples (a seeded sample beyond, every counterexample kept: the
boosted trees carry the rest); the trees fit on at most 20,000 examples on one thread;
choosing s, h and T reuses one neighbour search over at most a thousand held-out rows.
There is no per-row Python in fit.
"""

from mola.engine.learning.explaining import Explanation
from mola.engine.learning.model import TaughtModel
from mola.engine.learning.snapshot import (
    EXPERTISE_LEVELS,
    ConceptSpec,
    ExampleSpec,
    Precedence,
    RuleSpec,
    Snapshot,
)
from mola.engine.learning.training import LearningParams, fit

__all__ = [
    "EXPERTISE_LEVELS",
    "ConceptSpec",
    "ExampleSpec",
    "Explanation",
    "LearningParams",
    "Precedence",
    "RuleSpec",
    "Snapshot",
    "TaughtModel",
    "fit",
]
