"""The learning engine: a snapshot of teachings → a model that predicts and explains.

    model = fit(snapshot, random_state=0)
    model.predict(table), model.predict_proba(table, without=None), model.explain(table)
    model.metrics_, model.rule_reliability_, model.to_bytes(), TaughtModel.from_bytes(b)

How a prediction is made — evidence counted as pseudo-counts per label, at the case x:

    counts(x) = s · (α·prior + Σ_{rules firing at x, not overruled} votes)
              + Σ_{nearest examples e within 3h} weight(e) · exp(−‖x − e‖² / 2h²) · [label(e)]
              + c · support(x) · p_forest(x)            (with ≥ 20 examples; forest.py)
    probabilities(x) ∝ (counts(x) / Σ counts(x)) ^ (1/T)

The design, and why (bench/quality.py measures it against what one would build without
MOLA: a random forest or gradient boosting on the case's values plus one 0/1 column per
rule and per concept, tuned on the same examples — "rules as features"):

- *The forest is the rules-as-features learner, given what only MOLA knows.* Its features
  are the values, one column per rule (after precedence) and per concept, so it learns
  which rule is right where, and which wins where two overlap with no precedence recorded
  (summed per label, as the boosted trees had them, a wrong rule and a right one with the
  same label were one column). A forest because it is robust from 20 examples to 20,000
  and its out-of-bag probabilities are honest held-out predictions for free; its leaf
  size and column share are chosen out of bag, as the baseline's are.
- *Authors are judged by their examples* (authors.py). A saboteur declares an expert's
  level; a novice mislabels more than their level says. The forest's out-of-bag agreement
  with each author's labels (below 100 examples, also what the other authors' rules say
  of them) discounts the authors it disagrees with, and the discount is
  applied everywhere an example counts: the forest is refitted with it, the kernel, and
  the rules' reliabilities — so a saboteur's own examples stop vouching for their rules.
  This is what the baseline cannot do, and where MOLA gains most (the saboteur family).
- *The rules' prior and the blend.* Rule votes, the kernel and the forest are blended with
  s, h, c (and T) chosen by held-out log loss — leave-one-out for the votes and kernel,
  out-of-bag for the forest — each held-out row weighted by its author's discount (a label
  the forest doubts says less about which blend is right). With few examples the rules'
  expertise prior carries the model; as examples grow the forest takes over.

Principles kept from the start (docs: "How the model learns"):

1. *Rules shape predictions where no example exists.* A rules-only space follows its rules.
   With examples, the forest gives way wherever a rule fires that it saw on fewer than two
   training examples (``support``, by rule coverage: a distance to the nearest example
   switched the trees off almost everywhere in 8+ dimensions), and the kernel is cut at
   three bandwidths: where no example taught anything about a rule, the rule speaks.
2. *Examples override rules locally.* An example's kernel pull decays with distance at a
   bandwidth chosen on the examples; a counterexample (an example naming the rule it
   refutes) counts double and, next to itself, replaces the forest's answer by its label
   in proportion to its kernel weight: it carves its exception without moving the rest of
   the rule's region.
3. *Concepts are features*: columns of the forest, coordinates of the neighbour space
   (weighted by how much they tell labels apart), and what rules over concepts fire on.
4. *Reliability from evidence, prior from expertise.* Each rule's reliability ρ is the Beta
   posterior mean of "the label is mine where I fire": prior pseudo-counts by the author's
   level (master 15:1, expert 7:1, intermediate 3.2:0.8, novice 1.4:0.6), updated by the
   (discounted) training examples it covers. A firing rule counts only what it knows beyond
   a uniform guess: above 1/n_labels its excess goes to its label, below it — a rule the
   examples contradict — against its label. So switching a rule off always lowers the
   probability of what it voted for. Explanations say which rules *decide* a prediction
   ("decides": the rule's vote raises the predicted label and switching it off lowers that
   label's probability on the whole model — the forest reads rules as columns, so a vote
   alone does not say it; ``TaughtModel._deciding``); bench/quality.py checks by deletion
   that removing them together lowers it.
5. *Disputed teachings still count*, at half weight, and are flagged in explanations.
   Evaluation examples never enter the tables the model learns from; they are scored only.
6. *Calibration*: the same held-out predictions give the temperature, ``cv_accuracy`` and
   the expected calibration error ``ece``.
7. *Precedence.* Where a recorded winner fires, its losers' votes are removed before any
   counting — also from the losers' coverage and the forest's columns.

Why it is fast: every rule's and concept's exact region is flattened into interval and
choice tests evaluated vectorised over whole columns (matching.py); rule votes and per-rule
label counts are matrix products; the neighbours are exact brute force with one BLAS
product per block and a group-minimum prefilter, over at most 16,384 stored examples; the
forest fits on at most 20,000 examples, each tree on a bootstrap of at most 4,000, on one
thread (beyond 4,000 examples its setting grid shrinks to two and it has 24 trees, not
100; below 100 examples, 400: forest.py); a retrain may reuse the last forest (``trees="reuse"``, training.py).
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
