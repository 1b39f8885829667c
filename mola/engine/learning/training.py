"""``fit``: a snapshot of teachings → a ``TaughtModel`` with its metrics.

Stages (each timed into ``metrics_["timings"]``): turn the snapshot into arrays (tables,
which rules fire and which concepts hold on each example); fit (reliabilities, votes, the
neighbour encoding, the boosted trees, and the numbers chosen on the examples: rule
strength, kernel bandwidth, the trees' mass, temperature); measure (evaluation examples,
per-rule facts).

The forest is most of a fit's time, so a retrain may reuse the space's last fitted forest
(``trees="reuse"``) and publish in a fraction of that, a full fit refining it later
(teaching.services.training). What reuse keeps and what it still learns:

- kept: the forest, its mass c and the authors' discounts (chosen when it was fitted); a
  rule added since has no column, so the forest gives way where it fires;
- learned as usual: reliabilities, the neighbours (a new example acts at once through the
  kernel, a counterexample also through its veto of the trees), rule strength, bandwidth
  and temperature — chosen on held-out rows the trees never saw (examples added since, or
  left out of their fit) or whose out-of-fold probabilities the fit kept, so the choice is
  as honest as a full fit's;
- without compatible trees (none yet, another schema, a concept the trees read is gone or
  changed) the retrain has none: kernel and rules, as before the trees came.

``metrics_["trees"]`` says which: ``{"fresh": fitted in this fit, "fitted_at_revision": the
teaching revision the trees in use were fitted at, or None}``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mola.engine.learning.arrays import rows_to_table, table_take
from mola.engine.learning.blending import choose_settings
from mola.engine.learning.caching import FitCache
from mola.engine.learning.encoding import Encoder
from mola.engine.learning.evidence import (
    example_weight,
    reliability,
    rule_prior,
    rule_strengths,
    suppress_losers,
    vote_matrix,
)
from mola.engine.learning.forest import (
    MIN_TREE_EXAMPLES,
    ExampleTrees,
    fit_trees,
    reusable_trees,
    reuse_candidates,
    reused_out_of_fold,
)
from mola.engine.learning.matching import Matcher
from mola.engine.learning.model import ExampleTable, RuleTable, TaughtModel
from mola.engine.learning.neighbours import ExampleIndex, stored_rows
from mola.engine.learning.pool import Pool, PoolTexts, fit_label_model_on, prepare_pool, rule_counts
from mola.engine.learning.scoring import (
    expected_calibration_error,
    macro_f1,
)
from mola.engine.learning.snapshot import ExampleSpec, RuleSpec, Snapshot
from mola.engine.learning.text import TextReader
from mola.engine.schema import Schema
from mola.engine.table import Table

# Rule masks × rows held at once while counting what each rule covers: 1 M entries keep the
# float copy the matrix product needs (4 MB) in cache; larger groups were slower.
RULE_GROUP_ENTRIES = 1 << 20


@dataclass(frozen=True)
class LearningParams:
    """The learner's settings; the defaults are what MOLA uses."""

    neighbours: int = 8  # examples a prediction may draw on
    prior_strength: float = 0.5  # pseudo-counts of the label prior, in rule-vote units
    # Candidates, chosen on examples (0.25 was the smallest and the usual choice: more below).
    rule_strengths: tuple[float, ...] = (0.0625, 0.125, 0.25, 0.5, 1.0, 2.0)
    default_rule_strength: float = 1.0  # when there are too few examples to choose
    bandwidth_factors: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)  # × typical NN distance
    default_bandwidth: float = 0.1  # × √(number of features), in range-scaled units
    min_examples_to_choose: int = 20
    max_selection_rows: int = 1000  # held-out rows for choosing and for cv metrics
    selection_budget: int = 30_000_000  # query × example distances spent on choosing
    max_evaluation_rows: int = 1000  # evaluation examples scored (a seeded sample beyond)
    # Scoring an evaluation example searches every training example: past this many query ×
    # example distances (about 300 rows at 100,000 examples), fewer are scored.
    evaluation_budget: int = 30_000_000


def fit(
    snapshot: Snapshot,
    *,
    random_state: int = 0,
    params: LearningParams | None = None,
    cache: FitCache | None = None,
    trees: Literal["fit", "reuse"] = "fit",
    cancelled: Callable[[], bool] | None = None,
) -> TaughtModel:
    """Learn a model from ``snapshot``. Never fails on a degenerate snapshot (no rules, no
    examples, one label…); teachings naming a label outside the schema are left out.

    ``cache``: what the previous fit of the same space left (``caching.py``), kept by the
    caller, so that only what changed since is prepared again; the model is the same.
    ``trees``: "fit" fits the boosted trees afresh (and leaves them in ``cache``); "reuse"
    takes the cache's trees if they fit this snapshot, else goes without (module docstring).
    ``cancelled``: asked before each tree ensemble is fitted and between the parts of a long
    one (forest.py); True raises ``FitCancelled``.
    """
    if trees not in ("fit", "reuse"):
        raise ValueError(f'trees is "fit" or "reuse", not {trees!r}')
    params = params or LearningParams()
    rng = np.random.default_rng(random_state)
    started = time.perf_counter()
    schema = snapshot.schema
    labels = schema.label_names
    label_index = {name: i for i, name in enumerate(labels)}
    n_labels = len(labels)

    rules = _unique_by_id(r for r in snapshot.rules if r.label in label_index)
    concepts = _unique_by_id(snapshot.concepts)
    known = [e for e in _unique_by_id(snapshot.examples) if e.label in label_index]
    training = [e for e in known if not e.evaluation]
    evaluation = [e for e in known if e.evaluation]
    if cache is not None:
        cache.for_schema(schema)

    matcher = Matcher(
        schema,
        [r.condition for r in rules],
        [c.condition for c in concepts],
        reuse=cache.boxes if cache is not None else None,
    )
    winners, losers = _precedence_pairs(snapshot, rules)
    rows = [e.features for e in known]
    if cache is not None:
        known_table = cache.tables.table(schema, rows)
    else:
        known_table = rows_to_table(schema, rows)
    is_evaluation = np.array([e.evaluation for e in known], dtype=bool)
    table = table_take(known_table, np.flatnonzero(~is_evaluation))
    evaluation_table = table_take(known_table, np.flatnonzero(is_evaluation))
    y = np.array([label_index[e.label] for e in training], dtype=np.int64)
    weights = np.array([_weight(e) for e in training], dtype=np.float64)
    ids = np.array([e.id for e in training], dtype=np.int64)
    rule_labels = np.array([label_index[r.label] for r in rules], dtype=np.int64)
    prior = np.array([rule_prior(r.expertise) for r in rules], dtype=np.float64).reshape(-1, 2)
    strengths = rule_strengths([r.disputed for r in rules])
    reused = None
    if trees == "reuse" and cache is not None and len(training) >= MIN_TREE_EXAMPLES:
        concept_keys = [(c.id, c.condition.text) for c in concepts]
        rule_keys = [(r.id, r.condition.text) for r in rules]
        reused = reusable_trees(cache.trees, schema, concept_keys, rule_keys)
    if reused is None:
        selected = _selection_rows(params, rng, len(training), n_labels)
    else:
        selected = _selection_rows(
            params, rng, len(training), n_labels, reuse_candidates(reused, ids)
        )
    covered, coverage, held, fired_selected = _match_training(
        matcher, table, winners, losers, y, weights, n_labels, selected
    )
    pool = prepare_pool(schema, snapshot.pool, matcher, winners, losers, random_state, rows)
    arrays_done = time.perf_counter()

    label_counts = np.bincount(y, minlength=n_labels).astype(np.float64)
    if pool is not None:
        expertise = [r.expertise for r in rules]
        fit_label_model_on(pool, expertise, rule_labels, covered, label_counts, n_labels)
    reader, text_out_of_fold, pooled_texts, text_pool = _read_texts(
        schema, table, y, weights, training, n_labels, random_state, pool
    )
    encoder = Encoder(schema).fit(table, held.T, y, n_labels)
    points = encoder.transform(table, held.T, text_out_of_fold)
    label_prior = (label_counts + 1) / (len(y) + n_labels) if n_labels else np.zeros(0)

    vetoes = np.array([e.refutes is not None for e in training], dtype=bool)
    # Beyond a cap the neighbours come from a sample (every counterexample in it): the trees
    # carry what the many examples teach, and predicting stays fast (neighbours.py).
    stored = stored_rows(vetoes, random_state)
    index = ExampleIndex(points[stored])
    default_bandwidth = params.default_bandwidth * math.sqrt(max(1, len(schema.features)))
    author_names = sorted({e.author for e in training})
    author_code = {name: i for i, name in enumerate(author_names)}
    authors = np.array([author_code[e.author] for e in training], dtype=np.int64)
    if trees == "fit":
        example_trees, out_of_fold = fit_trees(
            schema,
            matcher,
            table,
            winners,
            losers,
            y,
            encoder.concepts,
            coverage,
            n_labels,
            selected,
            random_state,
            ids,
            authors,
            author_names,
            cancelled,
        )
        if example_trees is not None:
            _remember_fit(example_trees, snapshot, concepts, rules, ids[selected], out_of_fold)
        if cache is not None:
            cache.trees = example_trees
    elif reused is not None and reused.mass > 0 and len(selected) and not reused.only_label:
        example_trees = reused
        out_of_fold = reused_out_of_fold(reused, matcher, table, winners, losers, ids, selected)
    else:
        example_trees, out_of_fold = None, None
    discount = None
    if example_trees is not None and example_trees.author_trust:
        discount = np.array([example_trees.author_trust.get(e.author, 1.0) for e in training])
        taken = weights * (1 - discount)
        covered -= _covered_by(matcher, table, winners, losers, y, taken, n_labels)
        weights = weights * discount
    agree = covered[np.arange(len(rules)), rule_labels] if len(rules) else np.zeros(0)
    disagree = covered.sum(axis=1) - agree
    held_out = (fired_selected, y[selected], weights[selected], strengths)
    pool_agree, pool_disagree, pool_summary = rule_counts(
        pool, rule_labels, prior, covered, label_counts, held_out, n_labels
    )
    agree, disagree = agree + pool_agree, disagree + pool_disagree
    rule_reliability = reliability(prior, agree, disagree)
    seen_coverage = coverage.astype(np.float64)
    if example_trees is not None and example_trees is reused:
        seen_coverage[reused.unseen] = 0.0  # rules added since the trees: they never saw them

    def choose_for(index: ExampleIndex, points: np.ndarray, text: np.ndarray | None):
        return choose_settings(
            params,
            selected,
            fired_selected,
            seen_coverage,
            index,
            stored,
            points,
            y,
            weights,
            rule_labels,
            prior,
            agree,
            disagree,
            strengths,
            label_counts,
            n_labels,
            default_bandwidth,
            out_of_fold,
            vetoes,
            reused.mass if reused is not None and example_trees is reused else None,
            discount[selected] if discount is not None else None,
            text[selected] if text is not None else None,
        )

    choice = choose_for(index, points, text_out_of_fold)
    if pooled_texts is not None:
        # The texts read with the pool replace the plain ones only if the whole blend's
        # held-out log loss says so (pool.py).
        pooled_points = encoder.transform(table, held.T, pooled_texts[1])
        pooled_index = ExampleIndex(pooled_points[stored])
        pooled_choice = choose_for(pooled_index, pooled_points, pooled_texts[1])
        text_pool["blend_log_loss"] = [choice["cv_log_loss"], pooled_choice["cv_log_loss"]]
        text_pool["kept"] = (pooled_choice["cv_log_loss"] or 0) < (choice["cv_log_loss"] or 0)
        if text_pool["kept"]:
            reader, index, choice = pooled_texts[0], pooled_index, pooled_choice
    if reader is not None:
        reader.mass = choice["text_mass"]
    if example_trees is not None:
        example_trees.mass = choice["tree_mass"]
        example_trees.vetoes = vetoes[stored]
        example_trees.coverage = seen_coverage
    model = TaughtModel(
        labels=labels,
        matcher=matcher,
        rules=RuleTable(
            ids=np.array([r.id for r in rules], dtype=np.int64),
            labels=rule_labels,
            authors=[r.author for r in rules],
            disputed=np.array([r.disputed for r in rules], dtype=bool),
            reliability=rule_reliability,
            votes=vote_matrix(rule_labels, rule_reliability, strengths, n_labels),
            winners=winners,
            losers=losers,
        ),
        concept_names=[c.name for c in concepts],
        concept_authors=[c.author for c in concepts],
        encoder=encoder,
        examples=ExampleTable(
            index=index,
            ids=np.array([training[i].id for i in stored], dtype=np.int64),
            labels=y[stored],
            weights=weights[stored],
            authors=[training[i].author for i in stored],
            disputed=np.array([training[i].disputed for i in stored], dtype=bool),
        ),
        label_prior=label_prior,
        rule_strength=choice["rule_strength"],
        prior_strength=params.prior_strength,
        bandwidth=choice["bandwidth"],
        temperature=choice["temperature"],
        neighbours=params.neighbours,
        trees=example_trees if example_trees is not None and example_trees.mass > 0 else None,
        text=reader,  # its probabilities are coordinates of the neighbours, whatever its mass
    )
    fit_done = time.perf_counter()

    model.metrics_ = {
        **_evaluation_metrics(model, evaluation, evaluation_table, rng, params),
        "cv_accuracy": choice["cv_accuracy"],
        "cv_log_loss": choice["cv_log_loss"],
        "ece": choice["ece"],
        "n_cv": choice["n_cv"],
        "n_rules": len(rules),
        "n_concepts": len(concepts),
        "n_examples": len(training),
        "n_evaluation": len(evaluation),
        "n_precedences": len(winners),
        "pool": {**pool_summary, "texts": text_pool},
        "teaching_revision": snapshot.revision,
        "trees": {
            "fresh": trees == "fit",
            "fitted_at_revision": example_trees.revision if example_trees is not None else None,
        },
        "rules": [
            {
                "id": int(rule.id),
                "coverage": int(count),
                "agree": round(float(a), 4),
                "disagree": round(float(d), 4),
                "reliability": round(float(rho), 4),
            }
            for rule, count, a, d, rho in zip(
                rules,
                coverage,
                agree,
                disagree,
                rule_reliability,
                strict=True,
            )
        ],
        "parameters": {
            "rule_strength": choice["rule_strength"],
            "bandwidth": round(choice["bandwidth"], 6),
            "temperature": round(choice["temperature"], 6),
            "tree_mass": choice["tree_mass"],
            "text_mass": choice["text_mass"],
            "tree_reach": None,  # the forest's support is by rule coverage (forest.py)
            "coordinate_weights": encoder.describe([c.name for c in concepts]),
        },
    }
    done = time.perf_counter()
    model.metrics_["timings"] = {
        "snapshot_to_arrays": round(arrays_done - started, 6),
        "fit": round(fit_done - arrays_done, 6),
        "metrics": round(done - fit_done, 6),
    }
    model.metrics_["training_seconds"] = round(done - started, 6)
    return model


def _unique_by_id(items):
    """Teachings in snapshot order, the first of any repeated id (a defensive de-dup)."""
    seen: set[int] = set()
    unique = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            unique.append(item)
    return unique


def _weight(example: ExampleSpec) -> float:
    return example_weight(
        example.expertise, disputed=example.disputed, counterexample=example.refutes is not None
    )


def _precedence_pairs(snapshot: Snapshot, rules: list[RuleSpec]) -> tuple[np.ndarray, np.ndarray]:
    position = {rule.id: i for i, rule in enumerate(rules)}
    pairs = sorted(
        {
            (position[p.winner], position[p.loser])
            for p in snapshot.precedences
            if p.winner in position and p.loser in position and p.winner != p.loser
        }
    )
    winners = np.array([w for w, _ in pairs], dtype=np.int64)
    losers = np.array([lo for _, lo in pairs], dtype=np.int64)
    return winners, losers


def _selection_rows(
    params: LearningParams,
    rng: np.random.Generator,
    n: int,
    n_labels: int,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """The training rows held out one at a time to choose settings (none when too few),
    drawn from ``candidates`` when given (reused trees: the rows they can be judged on)."""
    if n < params.min_examples_to_choose or n_labels < 2:
        return np.zeros(0, dtype=np.int64)
    size = min(n, params.max_selection_rows, max(200, params.selection_budget // n))
    if candidates is not None:
        return np.sort(rng.choice(candidates, size=min(size, len(candidates)), replace=False))
    return np.sort(rng.choice(n, size=size, replace=False))


def _remember_fit(
    trees: ExampleTrees,
    snapshot: Snapshot,
    concepts: list,
    rules: list,
    calibration_ids: np.ndarray,
    out_of_fold: np.ndarray,
) -> None:
    """What a later fit needs to reuse freshly fitted ``trees`` (forest.reusable_trees)."""
    trees.revision = snapshot.revision
    trees.label_names = snapshot.schema.label_names
    trees.concept_keys = tuple(
        (concepts[c].id, concepts[c].condition.text) for c in trees.concepts.tolist()
    )
    trees.rule_keys = tuple((rules[r].id, rules[r].condition.text) for r in trees.rules.tolist())
    trees.known_rule_keys = tuple((r.id, r.condition.text) for r in rules)
    order = np.argsort(calibration_ids)
    trees.calibration_ids = calibration_ids[order]
    trees.calibration_probabilities = out_of_fold[order]


def _match_training(
    matcher: Matcher,
    table: Table,
    winners: np.ndarray,
    losers: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    n_labels: int,
    selected: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Match every rule and concept on the training rows, keeping only what fitting needs:
    per-rule weighted label counts and coverage, concept truths, and the firing at the
    held-out rows. Rules go through in groups (all rules × 100,000 rows would be 200 MB);
    a group's label counts are one matrix product."""
    n_rules, n = matcher.n_rules, table.n_rows
    # Where a winner fires its losers are silenced: the winners' masks are needed first.
    winner_masks = dict(
        zip(np.unique(winners).tolist(), matcher.masks(table, np.unique(winners)), strict=True)
    )
    beaten = {
        int(loser): np.logical_or.reduce(
            [winner_masks[w] for w in winners[losers == loser].tolist()]
        )
        for loser in np.unique(losers)
    }
    label_weights = np.zeros((n, max(n_labels, 1)), dtype=np.float32)
    label_weights[np.arange(n), y] = weights
    covered = np.zeros((n_rules, max(n_labels, 1)))
    coverage = np.zeros(n_rules, dtype=np.int64)
    fired_selected = np.zeros((n_rules, len(selected)), dtype=bool)
    held = np.zeros((matcher.n_concepts, n), dtype=bool)
    group = np.zeros((max(1, min(n_rules, RULE_GROUP_ENTRIES // max(n, 1))), n), dtype=bool)
    as_floats = np.empty(group.shape, dtype=np.float32)  # reused: no page faults per group
    start = 0
    for target, mask in enumerate(matcher.masks(table)):
        if target >= n_rules:
            held[target - n_rules] = mask
            continue
        if target in beaten:
            mask &= ~beaten[target]
        group[target - start] = mask
        if target - start + 1 == len(group) or target + 1 == n_rules:
            block = group[: target - start + 1]
            floats = as_floats[: len(block)]
            np.copyto(floats, block)
            covered[start : target + 1] = floats @ label_weights
            coverage[start : target + 1] = np.count_nonzero(block, axis=1)
            fired_selected[start : target + 1] = block[:, selected]
            start = target + 1
    return covered[:, :n_labels], coverage, held, fired_selected


def _covered_by(
    matcher: Matcher,
    table: Table,
    winners: np.ndarray,
    losers: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    n_labels: int,
) -> np.ndarray:
    """(rules, labels) the weighted label counts of the rows of nonzero ``weights`` under
    each rule (after precedence): what a discount of some authors takes off ``covered``."""
    rows = np.flatnonzero(weights > 0)
    out = np.zeros((matcher.n_rules, max(n_labels, 1)))
    if not len(rows) or not matcher.n_rules:
        return out[:, :n_labels]
    fired, _ = matcher.match(table_take(table, rows))
    fired = suppress_losers(fired, winners, losers)
    label_weights = np.zeros((len(rows), out.shape[1]))
    label_weights[np.arange(len(rows)), y[rows]] = weights[rows]
    return (fired.astype(np.float64) @ label_weights)[:, :n_labels]


def _read_texts(
    schema: Schema,
    table: Table,
    y: np.ndarray,
    weights: np.ndarray,
    training: list[ExampleSpec],
    n_labels: int,
    random_state: int,
    pool: Pool | None = None,
) -> tuple[TextReader | None, np.ndarray | None, tuple | None, dict[str, Any] | None]:
    """The TextReader of a space with text features, fitted on the training examples, and
    its out-of-fold probabilities of them (None, None without texts or enough examples);
    then the same read with the pool (pool.py) when its out-of-fold log loss is lower, else
    None; and what the pool did (None without a pool)."""
    features = [f.name for f in schema.features if f.kind == "text"]
    if not features or not TextReader.usable(y):
        return None, None, None, None
    reader = TextReader(features, n_labels)
    documents = reader.documents(table)
    out_of_fold = reader.out_of_fold(documents, y, weights, random_state)
    authors = [e.author for e in training]
    reader.fit(documents, y, weights, authors)
    if pool is None:
        return reader, out_of_fold, None, None
    posteriors = pool.label_model.posteriors if pool.label_model is not None else None
    texts = PoolTexts(TextReader(features, n_labels), posteriors)
    pool_documents = reader.documents(pool.table)
    pooled = texts.fit(documents, pool_documents, y, weights, authors, random_state)
    return reader, out_of_fold, pooled, texts.summary


def _evaluation_metrics(
    model: TaughtModel,
    evaluation: list[ExampleSpec],
    table: Table,
    rng: np.random.Generator,
    params: LearningParams,
) -> dict[str, Any]:
    """Accuracy, macro F1 and ECE on the held-out evaluation examples (None when none);
    ``table`` holds their features. Beyond the budget a seeded sample is scored, and
    ``n_evaluation_scored`` says how many."""
    n_examples = max(1, model.examples_.index.n)
    scored = min(params.max_evaluation_rows, max(200, params.evaluation_budget // n_examples))
    if len(evaluation) > scored:
        keep = np.sort(rng.choice(len(evaluation), scored, replace=False))
        evaluation = [evaluation[i] for i in keep]
        table = table_take(table, keep)
    if not evaluation or not model.labels_:
        return {
            "accuracy": None,
            "macro_f1": None,
            "evaluation_ece": None,
            "n_evaluation_scored": 0,
        }
    index = {name: i for i, name in enumerate(model.labels_)}
    truth = np.array([index[e.label] for e in evaluation], dtype=np.int64)
    probabilities = model.predict_proba(table)
    predicted = probabilities.argmax(axis=1)
    return {
        "accuracy": round(float((predicted == truth).mean()), 6),
        "macro_f1": _rounded(macro_f1(truth, predicted, len(model.labels_))),
        "evaluation_ece": _rounded(expected_calibration_error(probabilities, truth)),
        "n_evaluation_scored": len(evaluation),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
