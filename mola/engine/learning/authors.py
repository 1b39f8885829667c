"""How far each author's example labels can be trusted, learned from the examples.

A declared level sets how much an author's example counts at first (evidence.py). But a
saboteur may declare themself an expert, and a novice's labels may be noisier than their
level says. So after the forest is fitted, each author's examples are compared with what
the forest says of them *without having seen them* (the mean of its out-of-bag probabilities
and those of forests fitted on other authors' examples only: forest_trust.others_view): the mean
probability it gives the author's own labels, shrunk towards everyone's mean by
``TRUST_SHRINK`` pseudo-examples (an author with three examples is not judged on them).
Authors the forest agrees with least get less weight, in proportion to how far they are
from the best author above chance: an author at chance level counts nothing. Only ever a
discount (never above the declared weight), and only when someone's falls below
``RELEVANT``: in a community of honest teachers nothing changes.

The discount then applies everywhere an example counts: the forest is refitted with it,
the kernel's pull, and the rules' reliabilities (so a saboteur's own examples no longer
vouch for their rules, which lose weight to everyone else's contrary examples).

With few examples (below ``forest.FEW_ROWS``) a third view joins the two: what the *other
authors' rules* say of each example (``rules_view``), each rule trusted as far as the
examples of authors other than its own and the judged one bear it out. The forests' views
rest there on ~40 rows, and a saboteur's own rules (forest columns) back their examples out
of bag; the rules say what the community taught where those examples lie. With the steadier
judgement an author's agreement is also shrunk by ``FEW_ROWS_SHRINK`` pseudo-examples, not
``TRUST_SHRINK``: with ~10 examples per author, 10 halved every author's distance from the
mean, and a saboteur whose six examples were all wrong kept a discount of 0.4-0.6.

Learning the discounts costs a forest (the plain one whose out-of-bag probabilities they
come from), so a refine beyond 4,000 examples fits the discounted forest at once with the
discounts its space's last trees learned, while no author's examples changed by more than
``TRUST_SHRINK`` since (forest_trust.settled_trust): learned again on about the same examples
they differ by out-of-bag noise, which at M moved an author across ``RELEVANT`` from one
example to the next.
"""

from __future__ import annotations

import numpy as np

from mola.engine.learning.evidence import reliability, vote_matrix

TRUST_SHRINK = 10.0
FEW_ROWS_SHRINK = 5.0
RELEVANT = 0.9  # discounts above this change too little to refit the forest for
# Pseudo-votes of "any label" beside the rules' in ``rules_view``: one firing rule of an
# expert's prior (0.85 informative votes) says 0.55 of its label, not all of it.
RULES_VIEW_PRIOR = 1.0


def author_trust(
    authors: np.ndarray, y: np.ndarray, held_out: np.ndarray, shrink: float = TRUST_SHRINK
) -> np.ndarray:
    """(n_authors,) discount in [0, 1] per author code; ``authors`` and ``y`` per row,
    ``held_out`` (rows × labels) probabilities from a model that never saw the row;
    ``shrink``: pseudo-examples of everyone's mean agreement each author's is shrunk by."""
    n_authors = int(authors.max()) + 1 if len(authors) else 0
    n_labels = held_out.shape[1]
    if n_authors < 2 or n_labels < 2:
        return np.ones(n_authors)
    own = held_out[np.arange(len(y)), y]
    count = np.bincount(authors, minlength=n_authors)
    overall = float(own.mean())
    agreement = (np.bincount(authors, own, n_authors) + shrink * overall) / (count + shrink)
    chance = 1.0 / n_labels
    top = float(agreement[count > 0].max())
    if top <= chance:
        return np.ones(n_authors)
    return np.clip((agreement - chance) / (top - chance), 0.0, 1.0)


def rules_view(
    fired: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    authors: np.ndarray,
    rule_labels: np.ndarray,
    rule_authors: np.ndarray,
    prior: np.ndarray,
    n_labels: int,
) -> np.ndarray:
    """(rows, n_labels) what the rules of *other* authors say of each training row: the
    votes (evidence.vote_matrix) of the rules firing there (``fired``: rules × rows) whose
    author (``rule_authors``, codes as ``authors``; -1: none of the rows') is not the row's,
    each trusted as its ``prior`` (Beta pseudo-counts) updated by the examples (``y``,
    ``weights``) of every author but the judged one and the rule's own, beside
    ``RULES_VIEW_PRIOR`` votes spread evenly. NaN where no such rule fires.

    Why judged so: a rule is only as good as the community's examples say, and neither the
    judged author's examples (they would vouch for themselves through the rules they agree
    with) nor the rule's author's (a saboteur's wrong examples back their wrong rules) may
    say it."""
    out = np.full((len(y), n_labels), np.nan)
    if not fired.shape[0] or n_labels < 2:
        return out
    labelled = np.asarray(y)[None, :] == np.asarray(rule_labels)[:, None]  # rules × rows
    by_rule_author = np.asarray(rule_authors)[:, None] != np.asarray(authors)[None, :]
    for author in np.unique(authors):
        judges = fired & by_rule_author & (authors != author)[None, :]
        agree = (judges & labelled).astype(np.float64) @ weights
        disagree = (judges & ~labelled).astype(np.float64) @ weights
        votes = vote_matrix(
            rule_labels, reliability(prior, agree, disagree), np.ones(len(rule_labels)), n_labels
        )
        mine = np.flatnonzero(authors == author)
        others = fired[:, mine] & (np.asarray(rule_authors) != author)[:, None]
        counts = others.T.astype(np.float64) @ votes
        total = counts.sum(axis=1)
        said = (RULES_VIEW_PRIOR / n_labels + counts) / (RULES_VIEW_PRIOR + total)[:, None]
        said[total == 0] = np.nan
        out[mine] = said
    return out
