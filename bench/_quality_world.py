"""The generated worlds and simulated teachers of bench/quality.py, in four families.

A world (8 mixed features, 6 labels; cases from a cluster mixture: ``bench.synthetic``) has
a hidden truth that is a decision list of boxes: the first box that holds gives the label,
``labels[0]`` when none does. Five teachers describe it, each with a *declared* expertise
(what the space records) and a *true* skill drawn around a profile per seed (a declared
expert may be worse than their level says; the saboteur declares themself an expert):

- master and expert: mostly right rules, few mislabelled examples;
- intermediate: rules too broad (a clause dropped or thresholds widened a lot);
- novice: one far-too-broad rule, noisy labels, and the most examples;
- saboteur: rules with the right region and a wrong label (or made up), and examples
  labelled wrong in the same way, consistently: confidently wrong.

Families (``FAMILIES``), each a different stress:

- ``overlap``: general boxes with specific boxes inside them of another label, the specific
  one first in the truth (the more specific cue wins); no precedence is recorded, so where
  a specific rule and its general rule both fire they disagree and nothing says who wins;
- ``broad``: the intermediate and the novice write more, broader rules, the novice labels
  a third of the examples and mislabels many of them;
- ``saboteur``: the saboteur writes more rules and a quarter of the examples;
- ``concepts``: the truth is written in the community's concepts (disjunctions and
  conjunctions of clauses), and so are the teachers' rules.

Counterexample links are made by whoever labels an example, whenever a rule of someone else
with another label fires there — also on mislabelled examples (the saboteur "refutes" right
rules). 5 % of the examples are evaluation examples, 2 % disputed; 5 % of rules disputed.

Everything is determined by (family, seed); ``Teaching.snapshot(n)`` takes the first ``n``
examples, so the scales of one seed share their world, rules and first examples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench._quality_clauses import Clause, box_mask, random_box, random_clause
from bench.synthetic import World, _declared, synthetic_schema, world_centres
from mola.engine.language import compile_condition
from mola.engine.learning import ConceptSpec, ExampleSpec, RuleSpec, Snapshot
from mola.engine.schema import Schema
from mola.engine.table import table_from_rows

FAMILIES = ("overlap", "broad", "saboteur", "concepts")
N_FEATURES = 8
N_LABELS = 6
COVERAGE = (0.04, 0.30)  # share of cases a truth box covers
EVALUATION_SHARE = 0.05
DISPUTED_EXAMPLE_SHARE = 0.02
DISPUTED_RULE_SHARE = 0.05
REFUTE_P = 0.15  # P(an example names a rule of another label firing on it)
SKILL_JITTER = (0.6, 1.6)  # true error rates are the profile's times a factor in this range


@dataclass(frozen=True)
class Profile:
    """A teacher: declared level, P(right, broad, wrong) of a rule, P(mislabel), share of the
    examples, number of rules."""

    name: str
    declared: str
    kinds: tuple[float, float, float]
    mislabel: float
    share: float
    n_rules: int


PROFILES = (
    Profile("master", "master", (0.85, 0.10, 0.05), 0.03, 0.14, 4),
    Profile("expert", "expert", (0.70, 0.20, 0.10), 0.06, 0.22, 4),
    Profile("intermediate", "intermediate", (0.30, 0.60, 0.10), 0.10, 0.24, 4),
    Profile("novice", "novice", (0.35, 0.40, 0.25), 0.25, 0.28, 3),
    Profile("saboteur", "expert", (0.0, 0.0, 1.0), 0.85, 0.12, 3),
)
# Per family: {teacher: (kinds, mislabel, share, n_rules) overrides}.
FAMILY_PROFILES: dict[str, dict[str, dict]] = {
    "overlap": {},
    "broad": {
        "intermediate": {"kinds": (0.15, 0.80, 0.05), "n_rules": 6},
        "novice": {"kinds": (0.20, 0.60, 0.20), "mislabel": 0.35, "share": 0.34, "n_rules": 5},
    },
    "saboteur": {"saboteur": {"share": 0.25, "n_rules": 6}},
    "concepts": {},
}


def profiles(family: str) -> list[Profile]:
    changes = FAMILY_PROFILES[family]
    out = [Profile(**{**vars(p), **changes.get(p.name, {})}) for p in PROFILES]
    total = sum(p.share for p in out)
    return [Profile(**{**vars(p), "share": p.share / total}) for p in out]


@dataclass(frozen=True)
class ConceptTerm:
    """A reference to a named concept (possibly negated), usable like a clause in a box."""

    name: str
    condition: object
    negated: bool = False

    def text(self) -> str:
        return f"not {self.name}" if self.negated else self.name

    def mask(self, table) -> np.ndarray:
        held = self.condition.evaluate(table)
        return ~held if self.negated else held

    def jittered(self, rng, scale: float = 0.03) -> ConceptTerm:
        return self

    def widened(self, rng) -> None:
        return None


@dataclass
class Teaching:
    """A world and everything its teachers said about it (examples: the largest scale)."""

    family: str
    world: World
    schema: Schema  # what the space declares (half the number ranges left out)
    concepts: list[ConceptSpec]
    rules: list[RuleSpec]
    rule_kinds: list[str]
    examples: list[ExampleSpec]
    example_truth: list[str]
    seed: int

    def snapshot(self, n_examples: int) -> Snapshot:
        return Snapshot(
            schema=self.schema,
            concepts=self.concepts,
            rules=self.rules,
            examples=self.examples[:n_examples],
            precedences=(),
            revision=self.seed + 1,
        )


class _Builder:
    """Builds one (family, seed) teaching; state shared by the steps."""

    def __init__(self, family: str, seed: int) -> None:
        self.family = family
        self.rng = np.random.default_rng(1_000_003 * (FAMILIES.index(family) + 1) + 7 * seed)
        self.truth_schema = synthetic_schema(self.rng, N_FEATURES, N_LABELS)
        self.schema = _declared(self.truth_schema, self.rng)
        self.labels = self.schema.label_names
        self.world = World(self.truth_schema, [], world_centres(self.truth_schema, self.rng), 0)
        self.probe_rows = self.world.sample_rows(4000, self.rng)
        self.probe = table_from_rows(self.truth_schema, self.probe_rows)
        self.concepts: list[ConceptSpec] = []
        self.compiled: dict = {}
        self.boxes: list[list] = []  # truth boxes, then default-label boxes
        self.box_labels: list[str] = []
        self.named: dict[tuple[int, int], str] = {}

    # --- concepts and truth ---------------------------------------------------------------

    def concept(self, text: str, author: str) -> ConceptTerm:
        name = f"k{len(self.concepts)}"
        condition = compile_condition(text, self.schema, self.compiled)
        self.compiled[name] = condition
        self.concepts.append(ConceptSpec(len(self.concepts) + 1, name, author, condition))
        return ConceptTerm(name, condition)

    def covers(self, box: list) -> float:
        return float(box_mask(box, self.probe).mean())

    def decides(self, box: list) -> float:
        """The share of cases ``box`` would decide after the truth boxes so far."""
        decided = np.zeros(self.probe.n_rows, dtype=bool)
        for earlier in self.boxes:
            decided |= box_mask(earlier, self.probe)
        return float((box_mask(box, self.probe) & ~decided).mean())

    def add_truth(self, box: list, label: str) -> None:
        text = " and ".join(c.text() for c in box)
        condition = compile_condition(text, self.schema, self.compiled)
        self.world.truth.append((condition, text, label))
        self.boxes.append(box)
        self.box_labels.append(label)

    def random_boxes(self, n: int, clauses: tuple[int, int], coverage=COVERAGE) -> list[list]:
        found = []
        for _ in range(3000):
            if len(found) == n:
                break
            box = random_box(self.truth_schema, self.rng, int(self.rng.integers(*clauses)))
            if all(c.feature.kind == "boolean" for c in box):
                continue
            if coverage[0] <= self.covers(box) <= coverage[1] and all(
                (box_mask(box, self.probe) & ~box_mask(other, self.probe)).mean() > 0.03
                for other in found
            ):
                found.append(box)
        return found

    def truth_decision_list(self) -> None:
        for t, box in enumerate(self.random_boxes(7, (1, 4))):
            self.add_truth(box, self.labels[1 + t % (N_LABELS - 1)])

    def truth_overlapping(self) -> None:
        """General boxes, and inside each one or two specific ones of another label listed
        before it: the specific cue wins."""
        generals = self.random_boxes(4, (1, 3), (0.12, 0.35))
        specific, general = [], []
        for g, box in enumerate(generals):
            label = self.labels[1 + g % (N_LABELS - 1)]
            general.append((box, label))
            used = {c.feature.name for c in box}
            for _ in range(int(self.rng.integers(1, 3))):
                for _ in range(200):
                    extra = random_clause(
                        self.truth_schema.features[int(self.rng.integers(N_FEATURES))], self.rng
                    )
                    inner = [*box, extra]
                    share = self.covers(inner) / max(self.covers(box), 1e-9)
                    if extra.feature.name not in used and 0.15 <= share <= 0.5:
                        other = [x for x in self.labels[1:] if x != label]
                        specific.append((inner, str(self.rng.choice(other))))
                        break
        for box, label in [*specific, *general]:
            self.add_truth(box, label)

    def truth_through_concepts(self) -> None:
        """Named concepts that are disjunctions or conjunctions of clauses; the truth boxes
        are conjunctions of one or two of them (possibly negated)."""
        terms = []
        for _ in range(8):
            a, b = (
                self.truth_schema.features[j] for j in self.rng.choice(N_FEATURES, 2, replace=False)
            )
            joiner = "or" if self.rng.random() < 0.6 else "and"
            text = f"({random_clause(a, self.rng).text()}) {joiner} ({random_clause(b, self.rng).text()})"
            terms.append(self.concept(text, "master"))
        found = 0
        for _ in range(3000):
            if found == 7:
                break
            chosen = self.rng.choice(len(terms), int(self.rng.integers(1, 3)), replace=False)
            box = [
                ConceptTerm(terms[i].name, terms[i].condition, bool(self.rng.random() < 0.3))
                for i in chosen
            ]
            if COVERAGE[0] <= self.covers(box) <= COVERAGE[1] and self.decides(box) > 0.03:
                self.add_truth(box, self.labels[1 + found % (N_LABELS - 1)])
                found += 1

    def default_boxes(self) -> None:
        """Regions where the default label holds, so that teachers write rules for it too;
        they come last (the truth boxes win where they overlap)."""
        default = np.array(self.world.true_labels(self.probe_rows)) == self.labels[0]
        found = 0
        for _ in range(3000):
            if found == 2:
                break
            box = random_box(self.truth_schema, self.rng, int(self.rng.integers(1, 3)))
            hit = box_mask(box, self.probe)
            if COVERAGE[0] <= hit.mean() <= COVERAGE[1] and default[hit].mean() >= 0.85:
                self.boxes.append(box)
                self.box_labels.append(self.labels[0])
                found += 1

    def name_clauses(self) -> None:
        """Half the truth clauses get a concept name; a few distractors nobody uses."""
        for t, box in enumerate(self.boxes):
            for j, clause in enumerate(box):
                if isinstance(clause, Clause) and self.rng.random() < 0.5:
                    self.named[(t, j)] = self.concept(
                        clause.jittered(self.rng, 0.01).text(), "expert"
                    ).name
        for _ in range(3):
            f = self.truth_schema.features[int(self.rng.integers(N_FEATURES))]
            self.concept(random_clause(f, self.rng).text(), "intermediate")

    # --- teachers --------------------------------------------------------------------------

    def true_skill(self, profile: Profile) -> tuple[np.ndarray, float]:
        """The teacher's real rule-kind probabilities and mislabel rate this seed."""
        right, broad, wrong = profile.kinds
        errors = np.array([broad, wrong]) * self.rng.uniform(*SKILL_JITTER, 2)
        kinds = np.array([max(0.0, 1 - errors.sum()) if right else 0.0, *errors])
        mislabel = min(0.95, profile.mislabel * float(self.rng.uniform(*SKILL_JITTER)))
        return kinds / kinds.sum(), mislabel

    def rule_text(self, kind: str, t: int) -> tuple[str, str]:
        """(condition text, label) of a rule of ``kind`` about truth box ``t``."""
        rng, box, label = self.rng, self.boxes[t], self.box_labels[t]
        if kind == "right":
            parts = [
                self.named[(t, j)]
                if (t, j) in self.named and rng.random() < 0.5
                else c.jittered(rng).text()
                for j, c in enumerate(box)
            ]
            return " and ".join(parts), label
        if kind in ("broad", "far"):
            widened = [c.widened(rng) for c in box]
            if kind == "far" or (len(box) >= 2 and rng.random() < 0.5):
                j = int(rng.integers(len(box)))
                clause = box[j].widened(rng) or box[j] if kind == "far" else box[j]
                return clause.jittered(rng).text(), label
            parts = [(w or c).jittered(rng).text() for w, c in zip(widened, box, strict=True)]
            return " and ".join(parts), label
        if rng.random() < 0.7:  # the right region, a wrong label
            other = [x for x in self.labels if x != label]
            return " and ".join(c.jittered(rng).text() for c in box), str(rng.choice(other))
        made_up = random_box(self.truth_schema, rng, int(rng.integers(1, 3)))
        return " and ".join(c.text() for c in made_up), str(rng.choice(self.labels))

    def rules(self, teachers) -> tuple[list[RuleSpec], list[str]]:
        rules, kinds = [], []
        for profile, (p_kinds, _) in teachers:
            for r in range(profile.n_rules):
                kind = str(self.rng.choice(("right", "broad", "wrong"), p=p_kinds))
                if profile.name == "novice" and r == 0:
                    kind = "far"
                text, label = self.rule_text(kind, int(self.rng.integers(len(self.boxes))))
                rules.append(
                    RuleSpec(
                        id=1000 + len(rules),
                        label=label,
                        author=profile.name,
                        expertise=profile.declared,
                        condition=compile_condition(text, self.schema, self.compiled),
                        disputed=bool(self.rng.random() < DISPUTED_RULE_SHARE),
                    )
                )
                kinds.append("broad" if kind == "far" else kind)
        return rules, kinds

    def examples(self, teachers, rules, n: int) -> tuple[list[ExampleSpec], list[str]]:
        rng, labels = self.rng, self.labels
        rows = self.world.sample_rows(n, rng)
        truth = self.world.true_labels(rows)
        fires = np.array([r.condition.evaluate(table_from_rows(self.schema, rows)) for r in rules])
        # The saboteur's wrong label for each true label, and their own rules win.
        twisted = dict(
            zip(labels, np.roll(labels, 1 + int(rng.integers(N_LABELS - 1))), strict=True)
        )
        shares = [p.share for p, _ in teachers]
        examples = []
        for i, row in enumerate(rows):
            profile, (_, mislabel) = teachers[int(rng.choice(len(teachers), p=shares))]
            label = truth[i]
            if rng.random() < mislabel:
                if profile.name == "saboteur":
                    own = [
                        r.label
                        for k, r in enumerate(rules)
                        if fires[k, i] and r.author == "saboteur"
                    ]
                    label = own[0] if own and own[0] != truth[i] else str(twisted[truth[i]])
                else:
                    label = str(rng.choice([x for x in labels if x != truth[i]]))
            refutes = None
            against = [
                r.id
                for k, r in enumerate(rules)
                if fires[k, i] and r.label != label and r.author != profile.name
            ]
            if against and rng.random() < REFUTE_P:
                refutes = int(rng.choice(against))
            examples.append(
                ExampleSpec(
                    id=100_000 + i,
                    features=row,
                    label=label,
                    author=profile.name,
                    expertise=profile.declared,
                    refutes=refutes,
                    evaluation=bool(rng.random() < EVALUATION_SHARE),
                    disputed=bool(rng.random() < DISPUTED_EXAMPLE_SHARE),
                )
            )
        return examples, truth


def build(family: str, seed: int, n_examples: int) -> Teaching:
    """The world and teachings of ``family`` and ``seed``, with ``n_examples`` examples."""
    b = _Builder(family, seed)
    if family == "overlap":
        b.truth_overlapping()
    elif family == "concepts":
        b.truth_through_concepts()
    else:
        b.truth_decision_list()
    b.default_boxes()
    b.name_clauses()
    teachers = [(p, b.true_skill(p)) for p in profiles(family)]
    rules, kinds = b.rules(teachers)
    examples, truth = b.examples(teachers, rules, n_examples)
    return Teaching(family, b.world, b.schema, b.concepts, rules, kinds, examples, truth, seed)
