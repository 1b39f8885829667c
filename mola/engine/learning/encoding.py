"""Rows → points of a space where "near" means "the same kind of case", for the neighbours.

Numbers are scaled by their range (the schema's min/max, else the training examples'),
categories are one-hot (a different choice costs as much as a number's whole range),
booleans are 0/1, and concepts — the community's own vocabulary — are extra coordinates, so
crossing a concept's boundary moves a case away from the examples on the other side.

Each coordinate is then stretched by how much it tells the labels apart on the training
examples (information gain, bias-corrected), shrunk towards equal weights while examples are
few. Concepts start at weight zero and earn theirs the same way; only the most informative
few become coordinates, which keeps the distance computation small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mola.engine.schema import Schema
from mola.engine.table import Table

MAX_CONCEPT_COORDINATES = 12
# With n examples, weights are n/(n+SHRINK) learned and the rest uniform.
RELEVANCE_SHRINK = 200.0
NUMBER_BINS = 8


class Encoder:
    """Fitted on the training table; ``transform`` returns float32 points."""

    def __init__(self, schema: Schema) -> None:
        self.features = list(schema.features)
        self.low = np.zeros(len(self.features))
        self.span = np.ones(len(self.features))
        self.scale = np.ones(len(self.features))
        self.concepts = np.zeros(0, dtype=np.int64)  # indices of concepts used as coordinates
        self.concept_scale = np.zeros(0)

    def fit(self, table: Table, held: np.ndarray, y: np.ndarray, n_labels: int) -> Encoder:
        """Learn ranges and weights from the training rows (``held``: their concept truths)."""
        for j, feature in enumerate(self.features):
            if feature.kind != "number":
                continue
            column = table.column(feature.name)
            finite = column[np.isfinite(column)]
            low = feature.min if feature.min is not None else _quiet_min(finite)
            high = feature.max if feature.max is not None else _quiet_max(finite)
            low = 0.0 if low is None else low
            high = low if high is None else high
            self.low[j] = low
            self.span[j] = high - low if high > low else max(abs(low), 1.0)
        n = len(y)
        if n < 2 or n_labels < 2:
            return self
        gains = np.array(
            [_gain(self._codes(j, table), y, n_labels) for j in range(len(self.features))]
        )
        concept_gains = np.array(
            [_gain(held[:, c].astype(np.int64), y, n_labels) for c in range(held.shape[1])]
        )
        top = max(gains.max(initial=0.0), concept_gains.max(initial=0.0))
        if top <= 0:
            return self
        learned = n / (n + RELEVANCE_SHRINK)
        self.scale = np.sqrt((1 - learned) + learned * gains / top)
        order = np.argsort(-concept_gains, kind="stable")[:MAX_CONCEPT_COORDINATES]
        order = order[concept_gains[order] > 0]
        self.concepts = order.astype(np.int64)
        self.concept_scale = np.sqrt(learned * concept_gains[order] / top)
        return self

    def _codes(self, j: int, table: Table) -> np.ndarray:
        """Small non-negative integer codes of feature ``j`` for the information gain."""
        feature = self.features[j]
        if feature.kind == "text":  # texts are read by the TextReader, not as coordinates
            return np.zeros(table.n_rows, dtype=np.int64)
        column = table.column(feature.name)
        if feature.kind == "category":
            return column.astype(np.int64) + 1  # -1 (unknown choice) becomes its own code
        if feature.kind == "boolean":
            return column.astype(np.int64)
        edges = (
            np.quantile(column[np.isfinite(column)], np.linspace(0, 1, NUMBER_BINS + 1)[1:-1])
            if np.isfinite(column).any()
            else np.zeros(0)
        )
        return np.searchsorted(np.unique(edges), np.nan_to_num(column), side="right")

    def transform(
        self, table: Table, held: np.ndarray, text: np.ndarray | None = None
    ) -> np.ndarray:
        """(n_rows, n_coordinates) float32 points. ``text`` (rows, labels): the TextReader's
        probabilities of the rows' texts, the coordinates of a space's texts (two cases
        whose words read alike are near), None without text features.

        Written into one array a kind of feature at a time (one row of 20 features: one
        numpy call per kind, not per feature). Each value is computed in float64, element
        by element as a feature's own column would be, and rounded to float32 once, as a
        float64 matrix cast at the end would round it."""
        width, kinds = self._layout()
        extra = 0 if text is None else text.shape[1]
        points = np.zeros((table.n_rows, width + len(self.concepts) + extra), dtype=np.float32)
        if extra:
            points[:, points.shape[1] - extra :] = text
        for kind, features, starts in kinds:
            columns = np.stack([table.column(self.features[j].name) for j in features], axis=1)
            if kind == "number":
                scaled = (columns - self.low[features]) / self.span[features]
                # A missing number sits in the middle: equally far from both ends.
                points[:, starts] = (
                    np.where(np.isfinite(scaled), scaled, 0.5) * self.scale[features]
                )
            elif kind == "category":
                rows, cells = np.nonzero(columns >= 0)
                choice = starts[cells] + columns[rows, cells]
                points[rows, choice] = (self.scale[features] / math.sqrt(2))[cells]
            else:
                points[:, starts] = columns.astype(np.float64) * self.scale[features]
        at = width
        if len(self.concepts):
            end = at + len(self.concepts)
            points[:, at:end] = held[:, self.concepts].astype(np.float64) * self.concept_scale
        return points

    def _layout(self) -> tuple[int, list[tuple[str, np.ndarray, np.ndarray]]]:
        """The features' coordinates (concepts and texts' aside) and, per kind of feature
        with any, its features and the first coordinate of each: worked out once per
        process (not stored with the model: ``__getstate__``)."""
        layout = self.__dict__.get("_layout_cache")
        if layout is None:
            kinds: dict[str, tuple[list[int], list[int]]] = {}
            at = 0
            for j, feature in enumerate(self.features):
                width = _width(feature)
                if width:
                    same = kinds.setdefault(feature.kind, ([], []))
                    same[0].append(j)
                    same[1].append(at)
                at += width
            arrays = [(kind, np.array(f), np.array(s)) for kind, (f, s) in kinds.items()]
            layout = self.__dict__["_layout_cache"] = (at, arrays)
        return layout

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_layout_cache", None)
        return state

    def describe(self, concept_names: Sequence[str]) -> dict[str, float]:
        """Coordinate weights by feature and concept name (for metrics)."""
        weights = {
            f.name: round(float(s), 4) for f, s in zip(self.features, self.scale, strict=True)
        }
        for c, s in zip(self.concepts, self.concept_scale, strict=True):
            weights[concept_names[c]] = round(float(s), 4)
        return weights


def _width(feature) -> int:
    """Coordinates of a feature: one per choice, none for a text (the TextReader reads
    texts), one otherwise."""
    if feature.kind == "category":
        return len(feature.choices)
    return 0 if feature.kind == "text" else 1


def _quiet_min(values: np.ndarray) -> float | None:
    return float(values.min()) if len(values) else None


def _quiet_max(values: np.ndarray) -> float | None:
    return float(values.max()) if len(values) else None


def _gain(codes: np.ndarray, y: np.ndarray, n_labels: int) -> float:
    """Information gain of ``codes`` about ``y`` (nats) minus its small-sample bias
    (Miller–Madow), floored at zero: a noise feature scores about zero, not a little."""
    n = len(y)
    n_codes = int(codes.max()) + 1 if len(codes) else 1
    joint = np.bincount(codes * n_labels + y, minlength=n_codes * n_labels).reshape(
        n_codes, n_labels
    )
    by_code = joint.sum(axis=1)
    by_label = joint.sum(axis=0)
    h_y = _entropy(by_label / n)
    h_y_given = sum(
        count / n * _entropy(row / count)
        for row, count in zip(joint, by_code, strict=True)
        if count
    )
    used_codes = int((by_code > 0).sum())
    bias = (used_codes - 1) * (int((by_label > 0).sum()) - 1) / (2 * n)
    return max(0.0, h_y - h_y_given - bias)


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())
