"""Clauses and boxes of the generated quality worlds (bench/_quality_world.py): a clause
is one predicate on one feature, kept structured so a teacher can paraphrase or widen it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mola.engine.schema import Feature, Schema


@dataclass(frozen=True)
class Clause:
    """One predicate on one feature, kept structured so it can be paraphrased or widened."""

    feature: Feature
    op: str  # ">", "<", "between", "in", "is", "not"
    a: float = 0.0
    b: float = 0.0
    choices: tuple[str, ...] = ()

    def text(self) -> str:
        name = self.feature.name
        if self.op == ">":
            return f"{name} > {self.a:.4g}"
        if self.op == "<":
            return f"{name} < {self.b:.4g}"
        if self.op == "between":
            return f"{name} between {self.a:.4g} and {self.b:.4g}"
        if self.op == "in":
            quoted = ", ".join(f'"{c}"' for c in self.choices)
            return f"{name} in [{quoted}]"
        return name if self.op == "is" else f"not {name}"

    def mask(self, table) -> np.ndarray:
        """Where the clause holds (what its compiled text evaluates to, without compiling)."""
        column = table.column(self.feature.name)
        if self.op == ">":
            return column > float(f"{self.a:.4g}")
        if self.op == "<":
            return column < float(f"{self.b:.4g}")
        if self.op == "between":
            return (column >= float(f"{self.a:.4g}")) & (column <= float(f"{self.b:.4g}"))
        if self.op == "in":
            return np.isin(column, [self.feature.choices.index(c) for c in self.choices])
        return column if self.op == "is" else ~column

    def _span(self) -> float:
        return float(self.feature.max - self.feature.min)

    def jittered(self, rng: np.random.Generator, scale: float = 0.03) -> Clause:
        """A teacher's paraphrase: thresholds moved by a few per cent of the range."""
        if self.op not in (">", "<", "between"):
            return self
        span = self._span()
        a = self.a + rng.normal(0, scale * span)
        b = self.b + rng.normal(0, scale * span)
        return replace(self, a=a, b=max(b, a + 0.01 * span))

    def widened(self, rng: np.random.Generator) -> Clause | None:
        """The clause made much wider, or ``None`` when it cannot be (a boolean)."""
        span = self._span() if self.feature.kind == "number" else 0.0
        more = float(rng.uniform(0.15, 0.35)) * span
        if self.op == ">":
            return replace(self, a=self.a - more)
        if self.op == "<":
            return replace(self, b=self.b + more)
        if self.op == "between":
            return replace(self, a=self.a - more / 2, b=self.b + more / 2)
        if self.op == "in":
            others = [c for c in self.feature.choices if c not in self.choices]
            if not others:
                return None
            extra = rng.choice(others, min(len(others), int(rng.integers(1, 3))), replace=False)
            chosen = set(self.choices) | {str(c) for c in extra}
            return replace(self, choices=tuple(c for c in self.feature.choices if c in chosen))
        return None


def random_clause(feature: Feature, rng: np.random.Generator) -> Clause:
    if feature.kind == "number":
        span = feature.max - feature.min
        shape = int(rng.integers(0, 3))
        if shape == 0:
            return Clause(feature, ">", a=feature.min + float(rng.uniform(0.3, 0.8)) * span)
        if shape == 1:
            return Clause(feature, "<", b=feature.min + float(rng.uniform(0.2, 0.7)) * span)
        a = feature.min + float(rng.uniform(0.05, 0.6)) * span
        return Clause(feature, "between", a=a, b=a + float(rng.uniform(0.2, 0.4)) * span)
    if feature.kind == "category":
        k = len(feature.choices)
        chosen = rng.choice(k, int(rng.integers(1, max(2, k // 2 + 1))), replace=False)
        return Clause(feature, "in", choices=tuple(feature.choices[c] for c in sorted(chosen)))
    return Clause(feature, "is" if rng.random() < 0.5 else "not")


def random_box(schema: Schema, rng: np.random.Generator, n_clauses: int) -> list[Clause]:
    chosen = rng.choice(len(schema.features), n_clauses, replace=False)
    return [random_clause(schema.features[j], rng) for j in chosen]


def box_mask(box: list[Clause], table) -> np.ndarray:
    return np.logical_and.reduce([c.mask(table) for c in box])


def box_text(box: list[Clause]) -> str:
    return " and ".join(c.text() for c in box)
