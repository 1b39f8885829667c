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

Learning the discounts costs a forest (the plain one whose out-of-bag probabilities they
come from), so a refine beyond 4,000 examples fits the discounted forest at once with the
discounts its space's last trees learned, while no author's examples changed by more than
``TRUST_SHRINK`` since (forest_trust.settled_trust): learned again on about the same examples
they differ by out-of-bag noise, which at M moved an author across ``RELEVANT`` from one
example to the next.
"""

from __future__ import annotations

import numpy as np

TRUST_SHRINK = 10.0
RELEVANT = 0.9  # discounts above this change too little to refit the forest for


def author_trust(authors: np.ndarray, y: np.ndarray, held_out: np.ndarray) -> np.ndarray:
    """(n_authors,) discount in [0, 1] per author code; ``authors`` and ``y`` per row,
    ``held_out`` (rows × labels) probabilities from a model that never saw the row."""
    n_authors = int(authors.max()) + 1 if len(authors) else 0
    n_labels = held_out.shape[1]
    if n_authors < 2 or n_labels < 2:
        return np.ones(n_authors)
    own = held_out[np.arange(len(y)), y]
    count = np.bincount(authors, minlength=n_authors)
    overall = float(own.mean())
    agreement = (np.bincount(authors, own, n_authors) + TRUST_SHRINK * overall) / (
        count + TRUST_SHRINK
    )
    chance = 1.0 / n_labels
    top = float(agreement[count > 0].max())
    if top <= chance:
        return np.ones(n_authors)
    return np.clip((agreement - chance) / (top - chance), 0.0, 1.0)
