"""The generated world and simulated teachers of bench/quality.py.

A world (schema, cluster mixture: ``bench.synthetic``) gets a hidden truth that is a
decision list of boxes, each covering a useful share of the cases; the first box that holds
gives the label, ``labels[0]`` when none does. Twelve teachers of mixed expertise describe it:

- *concepts*: named pieces of the truth (a box's clause, slightly paraphrased) plus a few
  distractors nobody's rule uses;
- *rules*, each of one kind, drawn by the author's level (``RULE_KINDS``):
  ``right`` — a paraphrase of a truth box with its label (sometimes narrowed by one clause,
  sometimes written with concepts); ``broad`` — a truth box with a clause dropped or its
  thresholds widened a lot, so it also fires where other labels hold; ``wrong`` — a truth
  box with another label, or a made-up box with any label;
- *precedences* between rules of different boxes, the earlier box winning (what the
  decision list means where they overlap), as a consensus discussion would settle them;
- *examples*: cases labelled by a random teacher, wrong at the author's ``MISLABEL`` rate;
  a few name a rule they refute, 5 % are evaluation examples, 2 % are disputed.

Everything is determined by the seed; ``Teaching.snapshot(n)`` takes the first ``n``
examples, so the scales of one seed share their world, rules and first examples.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from bench.synthetic import World, _declared, _precedences, synthetic_schema, world_centres
from mola.engine.language import compile_condition
from mola.engine.learning import ConceptSpec, ExampleSpec, RuleSpec, Snapshot
from mola.engine.schema import Feature, Schema
from mola.engine.table import table_from_rows

LEVELS = ("novice", "intermediate", "expert", "master")
TEACHERS = {"novice": 4, "intermediate": 3, "expert": 3, "master": 2}
RULES_PER_TEACHER = {"novice": 3, "intermediate": 4, "expert": 4, "master": 5}
# P(right), P(too broad), P(wrong) of one rule, by its author's level.
RULE_KINDS = ("right", "broad", "wrong")
RULE_KIND_P = {
    "novice": (0.40, 0.30, 0.30),
    "intermediate": (0.60, 0.22, 0.18),
    "expert": (0.76, 0.14, 0.10),
    "master": (0.88, 0.08, 0.04),
}
MISLABEL = {"novice": 0.20, "intermediate": 0.10, "expert": 0.05, "master": 0.02}
N_FEATURES = 12
N_LABELS = 5
N_TRUTH = 8
N_DEFAULT_BOXES = 3  # regions of the default label (where no truth box holds) teachers know
DEFAULT_PURITY = 0.85
COVERAGE = (0.04, 0.30)  # share of cases a truth box must cover
EVALUATION_SHARE = 0.05
DISPUTED_EXAMPLE_SHARE = 0.02
DISPUTED_RULE_SHARE = 0.05
REFUTE_SHARE = 0.05  # of correctly labelled examples where a rule fires with another label
N_DISTRACTOR_CONCEPTS = 4


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


def _box_mask(box: list[Clause], table) -> np.ndarray:
    return np.logical_and.reduce([c.mask(table) for c in box])


@dataclass
class Teaching:
    """A world and everything its teachers said about it (examples: the largest scale)."""

    world: World
    schema: Schema  # what the space declares (half the number ranges left out)
    concepts: list[ConceptSpec]
    rules: list[RuleSpec]
    rule_kinds: list[str]
    precedences: list
    examples: list[ExampleSpec]
    example_truth: list[str]
    seed: int

    def snapshot(self, n_examples: int) -> Snapshot:
        return Snapshot(
            schema=self.schema,
            concepts=self.concepts,
            rules=self.rules,
            examples=self.examples[:n_examples],
            precedences=self.precedences,
            revision=self.seed + 1,
        )


def _world(rng: np.random.Generator) -> tuple[World, Schema, list[list[Clause]]]:
    truth_schema = synthetic_schema(rng, N_FEATURES, N_LABELS)
    schema = _declared(truth_schema, rng)
    centres = world_centres(truth_schema, rng)
    world = World(truth_schema, [], centres, 0)
    probe_rows = world.sample_rows(4000, rng)
    probe = table_from_rows(truth_schema, probe_rows)
    labels = schema.label_names
    boxes: list[list[Clause]] = []
    for _ in range(2000):
        if len(boxes) == N_TRUTH:
            break
        box = random_box(truth_schema, rng, int(rng.integers(1, 4)))
        if all(c.feature.kind == "boolean" for c in box):
            continue
        if not COVERAGE[0] <= float(_box_mask(box, probe).mean()) <= COVERAGE[1]:
            continue
        text = " and ".join(c.text() for c in box)
        condition = compile_condition(text, schema)
        label = labels[1 + len(boxes) % (len(labels) - 1)]
        world.truth.append((condition, text, label))
        boxes.append(box)
    # Regions where the default label holds, so that teachers can write rules for it too; they
    # come last in the decision list (the truth boxes win where they overlap).
    default = np.array(world.true_labels(probe_rows)) == labels[0]
    found = 0
    for _ in range(2000):
        if found == N_DEFAULT_BOXES:
            break
        box = random_box(truth_schema, rng, int(rng.integers(1, 3)))
        hit = _box_mask(box, probe)
        if COVERAGE[0] <= hit.mean() <= COVERAGE[1] and default[hit].mean() >= DEFAULT_PURITY:
            boxes.append(box)
            found += 1
    return world, schema, boxes


def build(seed: int, n_examples: int) -> Teaching:
    """The world and teachings of ``seed``, with ``n_examples`` examples."""
    rng = np.random.default_rng(10_007 * seed + 3)
    world, schema, boxes = _world(rng)
    labels = schema.label_names
    truth_schema = world.schema

    # Concepts: half the truth clauses get a name; a few distractors.
    concepts: list[ConceptSpec] = []
    compiled: dict = {}
    named: dict[tuple[int, int], str] = {}
    authors = [(f"{level}{i}", level) for level in LEVELS for i in range(TEACHERS[level])]

    def add_concept(clause: Clause) -> str:
        name = f"k{len(concepts)}"
        condition = compile_condition(clause.jittered(rng, 0.01).text(), schema)
        compiled[name] = condition
        author = authors[int(rng.integers(len(authors)))][0]
        concepts.append(ConceptSpec(len(concepts) + 1, name, author, condition))
        return name

    for t, box in enumerate(boxes):
        for j, clause in enumerate(box):
            if rng.random() < 0.5:
                named[(t, j)] = add_concept(clause)
    for _ in range(N_DISTRACTOR_CONCEPTS):
        f = truth_schema.features[int(rng.integers(len(truth_schema.features)))]
        add_concept(random_clause(f, rng))

    rules: list[RuleSpec] = []
    kinds: list[str] = []
    origin: list[int] = []
    for author, level in authors:
        for _ in range(RULES_PER_TEACHER[level]):
            kind = str(rng.choice(RULE_KINDS, p=RULE_KIND_P[level]))
            t = int(rng.integers(len(boxes)))
            box = boxes[t]
            label = world.truth[t][2] if t < len(world.truth) else labels[0]
            parts: list[str]
            if kind == "right":
                parts = [
                    named[(t, j)]
                    if (t, j) in named and rng.random() < 0.5
                    else clause.jittered(rng).text()
                    for j, clause in enumerate(box)
                ]
                if rng.random() < 0.3:  # narrowed by one more clause: still right, less often
                    parts += [c.text() for c in random_box(truth_schema, rng, 1)]
            elif kind == "broad":
                widened = [c.widened(rng) for c in box]
                if len(box) >= 2 and (rng.random() < 0.5 or all(w is None for w in widened)):
                    keep = int(rng.integers(len(box)))
                    parts = [box[keep].jittered(rng).text()]
                else:
                    parts = [
                        (w or c).jittered(rng).text() for w, c in zip(widened, box, strict=True)
                    ]
            elif rng.random() < 0.5:  # the right region, the wrong label
                parts = [c.jittered(rng).text() for c in box]
                label = str(rng.choice([x for x in labels if x != label]))
            else:  # a made-up rule
                parts = [c.text() for c in random_box(truth_schema, rng, int(rng.integers(1, 3)))]
                label = str(rng.choice(labels))
                t = len(boxes)
            condition = compile_condition(" and ".join(parts), schema, compiled)
            rules.append(
                RuleSpec(
                    id=1000 + len(rules),
                    label=label,
                    author=author,
                    expertise=level,
                    condition=condition,
                    disputed=bool(rng.random() < DISPUTED_RULE_SHARE),
                )
            )
            kinds.append(kind)
            origin.append(t)
    precedences = _precedences(rng, rules, origin, len(rules) // 8)

    rows = world.sample_rows(n_examples, rng)
    truth = world.true_labels(rows)
    table = table_from_rows(schema, rows)
    fires = np.array([r.condition.evaluate(table) for r in rules])  # rules × rows
    examples = []
    for i, row in enumerate(rows):
        author, level = authors[int(rng.integers(len(authors)))]
        label = truth[i]
        if rng.random() < MISLABEL[level]:
            label = str(rng.choice([x for x in labels if x != label]))
        refutes = None
        if label == truth[i] and rng.random() < REFUTE_SHARE:
            against = [r.id for k, r in enumerate(rules) if fires[k, i] and r.label != label]
            if against:
                refutes = int(rng.choice(against))
        examples.append(
            ExampleSpec(
                id=100_000 + i,
                features=row,
                label=label,
                author=author,
                expertise=level,
                refutes=refutes,
                evaluation=bool(rng.random() < EVALUATION_SHARE),
                disputed=bool(rng.random() < DISPUTED_EXAMPLE_SHARE),
            )
        )
    return Teaching(world, schema, concepts, rules, kinds, precedences, examples, truth, seed)
