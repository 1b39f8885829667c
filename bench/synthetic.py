"""Seeded synthetic teaching problems for benchmarks (fit speed, retrain, quality).

A *world* is a schema plus a hidden truth: a decision list of boxes over the features, the
first box that holds giving the label (``labels[0]`` when none does). Cases are drawn from a
mixture of clusters, as real cases are. Teachers then describe the world imperfectly:

- concepts are single-feature predicates, a third of them built from earlier concepts;
- each rule paraphrases one truth box (2–4 clauses) with jittered thresholds, often narrowed
  by an extra clause or a concept; its label is wrong more often the less expert its author;
- precedences say that a rule from an earlier truth box beats one from a later box (what the
  decision list means where they overlap);
- examples are truth-labelled cases with a little label noise; a few are evaluation
  examples, a few disputed, a few counterexamples naming a rule that fires with another label.

    world, snapshot = synthetic_snapshot("M", seed=0)
    rows = world.sample_rows(1000, np.random.default_rng(1)); world.true_labels(rows)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.sizes import SIZES
from mola.engine.language import Condition, ConditionError, compile_condition
from mola.engine.learning import ConceptSpec, ExampleSpec, Precedence, RuleSpec, Snapshot
from mola.engine.schema import Feature, Label, Schema
from mola.engine.table import table_from_rows

EXPERTISE = ("novice", "intermediate", "expert", "master")
EXPERTISE_SHARE = (0.3, 0.35, 0.25, 0.1)
WRONG_LABEL = {"novice": 0.3, "intermediate": 0.15, "expert": 0.08, "master": 0.04}
N_AUTHORS = 50
LABEL_NOISE = 0.05


@dataclass
class World:
    """A schema, its hidden truth and the distribution cases come from."""

    schema: Schema
    truth: list[tuple[Condition, str, str]]  # (condition, its text, label), first match wins
    centres: list[dict]
    rng_seed: int

    def sample_rows(self, n: int, rng: np.random.Generator) -> list[dict]:
        """``n`` valid rows drawn from the cluster mixture."""
        which = rng.integers(0, len(self.centres), n)
        columns: dict[str, list] = {}
        for feature in self.schema.features:
            centre = np.array([self.centres[c][feature.name] for c in which])
            if feature.kind == "number":
                span = feature.max - feature.min  # every synthetic number has a known range
                values = np.clip(centre + rng.normal(0, 0.12 * span, n), feature.min, feature.max)
                columns[feature.name] = [round(float(v), 3) for v in values]
            elif feature.kind == "category":
                keep = rng.random(n) < 0.7
                other = rng.integers(0, len(feature.choices), n)
                codes = np.where(keep, centre, other)
                columns[feature.name] = [feature.choices[c] for c in codes]
            else:
                keep = rng.random(n) < 0.8
                columns[feature.name] = [bool(v) for v in np.where(keep, centre, ~centre)]
        names = list(columns)
        return [
            dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)
        ]

    def true_labels(self, rows: list[dict]) -> list[str]:
        table = table_from_rows(self.schema, rows)
        labels = np.full(len(rows), self.schema.label_names[0], dtype=object)
        decided = np.zeros(len(rows), dtype=bool)
        for condition, _, label in self.truth:
            hit = condition.evaluate(table) & ~decided
            labels[hit] = label
            decided |= hit
        return list(labels)


def synthetic_schema(rng: np.random.Generator, n_features: int = 20, n_labels: int = 8) -> Schema:
    """Numbers (60 %), categories (25 %) and booleans; every number has a range, half of them
    declared in the schema (the learner must then find the range from the examples)."""
    n_categories = max(1, n_features // 4)
    n_booleans = max(1, n_features // 7)
    n_numbers = max(1, n_features - n_categories - n_booleans)
    features = []
    for i in range(n_numbers):
        span = float(rng.choice([1.0, 10.0, 100.0, 200.0]))
        features.append(Feature(f"n{i}", "number", min=0.0, max=span))
    for i in range(n_categories):
        k = int(rng.integers(3, 7))
        features.append(Feature(f"c{i}", "category", choices=tuple(f"v{j}" for j in range(k))))
    for i in range(n_booleans):
        features.append(Feature(f"b{i}", "boolean"))
    labels = tuple(Label(f"cue{i}") for i in range(n_labels))
    return Schema(tuple(features), labels)


def world_centres(truth_schema: Schema, rng: np.random.Generator, n: int = 30) -> list[dict]:
    """Random points (in the truth schema's codes) that the world's cases cluster around."""
    centres = []
    for _ in range(n):
        centre: dict = {}
        for f in truth_schema.features:
            if f.kind == "number":
                centre[f.name] = float(rng.uniform(f.min, f.max))
            elif f.kind == "category":
                centre[f.name] = int(rng.integers(0, len(f.choices)))
            else:
                centre[f.name] = bool(rng.random() < 0.5)
        centres.append(centre)
    return centres


def _declared(schema: Schema, rng: np.random.Generator) -> Schema:
    """The same schema with half the number ranges left undeclared."""
    features = tuple(
        Feature(f.name, f.kind, choices=f.choices)
        if f.kind == "number" and rng.random() < 0.5
        else f
        for f in schema.features
    )
    return Schema(features, schema.labels)


def _predicate(feature: Feature, rng: np.random.Generator, jitter: float = 0.0) -> str:
    if feature.kind == "number":
        span = feature.max - feature.min
        a, b = sorted(rng.uniform(feature.min, feature.max, 2))
        shape = rng.integers(0, 3)
        if shape == 0:
            return f"{feature.name} > {a + jitter * span:.4g}"
        if shape == 1:
            return f"{feature.name} < {b + jitter * span:.4g}"
        return f"{feature.name} between {a:.4g} and {max(a, b + jitter * span):.4g}"
    if feature.kind == "category":
        k = int(rng.integers(1, len(feature.choices)))
        chosen = rng.choice(len(feature.choices), k, replace=False)
        quoted = ", ".join(f'"{feature.choices[c]}"' for c in sorted(chosen))
        return f"{feature.name} in [{quoted}]"
    return feature.name if rng.random() < 0.5 else f"not {feature.name}"


def _box_text(schema: Schema, rng: np.random.Generator, n_clauses: int) -> str:
    chosen = rng.choice(len(schema.features), n_clauses, replace=False)
    return " and ".join(_predicate(schema.features[j], rng) for j in chosen)


def _jittered(text: str, rng: np.random.Generator) -> str:
    """``text`` with each number moved by a few per cent of itself (a teacher's paraphrase)."""
    words = []
    for word in text.split(" "):
        try:
            value = float(word)
        except ValueError:
            words.append(word)
            continue
        words.append(f"{value * (1 + rng.normal(0, 0.04)):.4g}")
    return " ".join(words)


def synthetic_snapshot(
    size: str | tuple[int, int, int], seed: int = 0, n_features: int = 20, n_labels: int = 8
) -> tuple[World, Snapshot]:
    """A world and a snapshot of teachings about it, fully determined by ``seed``."""
    n_rules, n_concepts, n_examples = SIZES[size] if isinstance(size, str) else size
    rng = np.random.default_rng(seed)
    truth_schema = synthetic_schema(rng, n_features, n_labels)
    schema = _declared(truth_schema, rng)
    labels = schema.label_names
    n_truth = max(8, n_rules // 10)
    truth = []
    for i in range(n_truth):
        text = _box_text(truth_schema, rng, int(rng.integers(2, 5)))
        truth.append((compile_condition(text, schema), text, labels[1 + i % (len(labels) - 1)]))
    centres = world_centres(truth_schema, rng)
    world = World(truth_schema, truth, centres, seed)

    authors = [
        (f"user{i:02d}", str(rng.choice(EXPERTISE, p=EXPERTISE_SHARE))) for i in range(N_AUTHORS)
    ]
    concepts, compiled = _concepts(schema, truth_schema, rng, n_concepts, authors)
    rules, origin = _rules(schema, truth_schema, rng, n_rules, truth, compiled, authors, labels)
    precedences = _precedences(rng, rules, origin, n_rules // 20)
    examples = _examples(world, schema, rng, n_examples, rules, authors, labels)
    return world, Snapshot(
        schema=schema,
        concepts=concepts,
        rules=rules,
        examples=examples,
        precedences=precedences,
        revision=seed + 1,
    )


def _concepts(
    schema, truth_schema, rng, n, authors
) -> tuple[list[ConceptSpec], dict[str, Condition]]:
    compiled: dict[str, Condition] = {}
    specs = []
    for i in range(n):
        if i >= 4 and rng.random() < 0.3:
            a, b = rng.choice(i, 2, replace=False)
            joiner = "and" if rng.random() < 0.5 else "or"
            text = f"k{a} {joiner} k{b}"
        else:
            feature = truth_schema.features[int(rng.integers(len(truth_schema.features)))]
            text = _predicate(feature, rng)
        condition = compile_condition(text, schema, compiled)
        compiled[f"k{i}"] = condition
        author = authors[int(rng.integers(len(authors)))][0]
        specs.append(ConceptSpec(id=i + 1, name=f"k{i}", author=author, condition=condition))
    return specs, compiled


def _rules(schema, truth_schema, rng, n, truth, compiled, authors, labels):
    rules, origin = [], []
    names = list(compiled)
    for i in range(n):
        t = int(rng.integers(len(truth)))
        text = _jittered(truth[t][1], rng)
        if rng.random() < 0.6:
            extra = (
                names[int(rng.integers(len(names)))]
                if names and rng.random() < 0.4
                else _box_text(truth_schema, rng, 1)
            )
            text = f"{text} and {extra}"
        author, expertise = authors[int(rng.integers(len(authors)))]
        label = truth[t][2]
        if rng.random() < WRONG_LABEL[expertise]:
            label = labels[int(rng.integers(len(labels)))]
        rules.append(
            RuleSpec(
                id=1000 + i,
                label=label,
                author=author,
                expertise=expertise,
                condition=_compiled(text, truth[t][1], schema, compiled),
                disputed=bool(rng.random() < 0.05),
            )
        )
        origin.append(t)
    return rules, origin


def _compiled(text: str, fallback: str, schema: Schema, concepts: dict) -> Condition:
    """``text`` compiled, or ``fallback`` when jitter made it invalid (a reversed between)."""
    try:
        return compile_condition(text, schema, concepts)
    except ConditionError:
        return compile_condition(fallback, schema, concepts)


def _precedences(rng, rules, origin, n) -> list[Precedence]:
    pairs = set()
    for _ in range(n * 4):
        if len(pairs) >= n or len(rules) < 2:
            break
        a, b = rng.choice(len(rules), 2, replace=False)
        if origin[a] == origin[b] or rules[a].label == rules[b].label:
            continue
        winner, loser = (a, b) if origin[a] < origin[b] else (b, a)
        pairs.add((rules[winner].id, rules[loser].id))
    return [Precedence(winner=w, loser=lo) for w, lo in sorted(pairs)]


def _examples(world, schema, rng, n, rules, authors, labels) -> list[ExampleSpec]:
    rows = world.sample_rows(n, rng)
    truth = world.true_labels(rows)
    noisy = rng.random(n) < LABEL_NOISE
    noise = rng.integers(0, len(labels), n)
    # Counterexamples: a few cases where some rule fires with another label say so.
    candidates = np.flatnonzero(rng.random(n) < 0.03)
    refutes: dict[int, int] = {}
    if len(candidates) and rules:
        table = table_from_rows(schema, [rows[i] for i in candidates])
        for rule in rules:
            hits = candidates[rule.condition.evaluate(table)]
            for i in hits:
                if int(i) not in refutes and rule.label != truth[i]:
                    refutes[int(i)] = rule.id
    examples = []
    for i, row in enumerate(rows):
        author, expertise = authors[int(rng.integers(len(authors)))]
        examples.append(
            ExampleSpec(
                id=100_000 + i,
                features=row,
                label=labels[noise[i]] if noisy[i] else truth[i],
                author=author,
                expertise=expertise,
                refutes=refutes.get(i),
                evaluation=bool(rng.random() < 0.05),
                disputed=bool(rng.random() < 0.02),
            )
        )
    return examples
