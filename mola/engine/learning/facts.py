"""The examples' per-row facts as arrays (label, weight, id, counterexample, disputed,
evaluation, author), paying only for the examples that changed since the last fit.

A quick retrain after one write at M went through 10,000 examples a dozen times, an
attribute at a time (~8 ms of its CPU). The worker hands the learner the very same
``ExampleSpec`` objects while they are unchanged (teaching.services.snapshots), in id order,
so the facts of the longest run of the same objects at the start of the last fit's list
are taken from its arrays; only the rest are read (after a new example: one).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress
from operator import is_

import numpy as np

from mola.engine.learning.evidence import example_weight
from mola.engine.learning.snapshot import ExampleSpec


@dataclass
class ExampleFacts:
    """Per-row facts of ``specs`` (the examples taking part, evaluation ones included)."""

    specs: list[ExampleSpec]
    labels: tuple[str, ...]  # the label names ``label`` indexes
    label: np.ndarray  # int64
    weight: np.ndarray  # float64, before the authors' discounts (evidence.example_weight)
    id: np.ndarray  # int64
    refutes: np.ndarray  # bool: a counterexample
    disputed: np.ndarray  # bool
    evaluation: np.ndarray  # bool
    author: np.ndarray  # int64, into ``authors``
    authors: list[str]  # every author name coded so far (a fit's cache adds, never renumbers)

    def training(self) -> tuple[list[ExampleSpec], np.ndarray]:
        """The training examples and where they are among ``specs``."""
        trained = ~self.evaluation
        return list(compress(self.specs, trained.tolist())), trained

    def author_values(self, values: dict[str, float], default: float, rows: np.ndarray):
        """``values`` of the authors of ``rows`` (a mask or positions of ``specs``)."""
        per_author = np.array([values.get(name, default) for name in self.authors])
        return per_author[self.author[rows]] if len(per_author) else np.zeros(0)


def example_facts(
    specs: list[ExampleSpec], labels: tuple[str, ...], last: ExampleFacts | None
) -> ExampleFacts:
    """The facts of ``specs`` (every label among ``labels``), those of the same objects at
    the start of ``last``'s taken from it."""
    kept = 0
    if last is not None and last.labels == labels:
        same = list(map(is_, specs, last.specs))
        kept = same.index(False) if False in same else len(same)
    authors = last.authors if last is not None else []
    code = {name: i for i, name in enumerate(authors)}
    label_index = {name: i for i, name in enumerate(labels)}
    kinds: dict[tuple[str, bool, bool], float] = {}
    new = specs[kept:]
    fresh = {
        "label": [label_index[e.label] for e in new],
        "weight": [_weight(e, kinds) for e in new],
        "id": [e.id for e in new],
        "refutes": [e.refutes is not None for e in new],
        "disputed": [e.disputed for e in new],
        "evaluation": [e.evaluation for e in new],
        "author": [code.setdefault(e.author, len(code)) for e in new],
    }
    types = {"label": np.int64, "weight": np.float64, "id": np.int64, "author": np.int64}
    arrays = {}
    for name, values in fresh.items():
        array = np.array(values, dtype=types.get(name, bool))
        arrays[name] = array if not kept else np.concatenate([getattr(last, name)[:kept], array])
    return ExampleFacts(specs=specs, labels=labels, authors=list(code), **arrays)


def _weight(example: ExampleSpec, kinds: dict[tuple[str, bool, bool], float]) -> float:
    """The example's weight, worked out once per kind of example (a handful of kinds)."""
    kind = (example.expertise, example.disputed, example.refutes is not None)
    weight = kinds.get(kind)
    if weight is None:
        weight = kinds[kind] = example_weight(kind[0], disputed=kind[1], counterexample=kind[2])
    return weight
