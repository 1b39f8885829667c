"""The taught model: what ``fit`` learned, and how it answers and explains.

Everything here is learned state (names end with ``_``) plus the small pieces needed to
evaluate conditions and find neighbours; ``to_bytes`` pickles exactly that.
"""

from __future__ import annotations

import pickle
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from mola.engine.learning.arrays import row_slices, table_slice
from mola.engine.learning.blending import tree_evidence
from mola.engine.learning.deciding import ForestInput, deciding_rules, forest_input
from mola.engine.learning.encoding import Encoder
from mola.engine.learning.evidence import suppress_losers
from mola.engine.learning.explaining import EXPLAINED_EXAMPLES, Explainer, Explanation
from mola.engine.learning.forest import ExampleTrees
from mola.engine.learning.matching import Matcher
from mola.engine.learning.neighbours import ExampleIndex, kernel_evidence
from mola.engine.learning.scoring import tempered
from mola.engine.learning.text import TextReader
from mola.engine.table import Table

ARTEFACT_FORMAT = 1
ROWS_PER_PART = 8192


class _Evidence(NamedTuple):
    """What one block of rows was predicted from."""

    counts: np.ndarray  # (rows, labels) pseudo-counts
    fired: np.ndarray  # (rules, rows) after precedence
    held: np.ndarray  # (concepts, rows)
    found: np.ndarray  # (rows, k) nearest examples, -1 when none
    squared: np.ndarray  # (rows, k) their squared distances
    steady: np.ndarray  # (rows, labels) the part of ``counts`` that does not depend on ``fired``
    forest: ForestInput | None = None  # explained: the forest's input, leaves and answers
    # Explained, with ``forest``: the forest's pseudo-counts at mass 1 (_forest_counts) the
    # counts were built with; the deciding rules start from them.
    forest_counts: np.ndarray | None = None


@dataclass
class RuleTable:
    """Per-rule learned facts, aligned with the matcher's rule order."""

    ids: np.ndarray
    labels: np.ndarray  # label index
    authors: list[str]
    disputed: np.ndarray
    reliability: np.ndarray
    votes: np.ndarray  # (n_rules, n_labels) pseudo-counts when the rule fires, before scale
    winners: np.ndarray  # precedence pairs as rule positions
    losers: np.ndarray


@dataclass
class ExampleTable:
    """The training examples the neighbours come from."""

    index: ExampleIndex
    ids: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    authors: list[str]
    disputed: np.ndarray


class TaughtModel:
    """A model trained from one teaching revision. Build it with ``fit``."""

    # Artefacts stored before the boosted trees have no ``trees_``: they answer as they did.
    trees_: ExampleTrees | None = None
    # Nor before text features a ``text_`` (text.py): None reads no text.
    text_: TextReader | None = None
    # Nor before the forest's floor at few examples (blending.forest_floor).
    forest_floor_: float = 0.0
    # Nor before the counterexamples' own reach (blending.veto_reach): None, the bandwidth.
    veto_reach_: float | None = None

    def __init__(
        self,
        *,
        labels: tuple[str, ...],
        matcher: Matcher,
        rules: RuleTable,
        concept_names: list[str],
        concept_authors: list[str],
        encoder: Encoder,
        examples: ExampleTable,
        label_prior: np.ndarray,
        rule_strength: float,
        prior_strength: float,
        bandwidth: float,
        temperature: float,
        neighbours: int,
        trees: ExampleTrees | None = None,
        text: TextReader | None = None,
        forest_floor: float = 0.0,
        veto_reach: float | None = None,
    ) -> None:
        self.labels_ = labels
        self.matcher_ = matcher
        self.rules_ = rules
        self.concept_names_ = concept_names
        self.concept_authors_ = concept_authors
        self.encoder_ = encoder
        self.examples_ = examples
        self.label_prior_ = label_prior
        self.rule_strength_ = rule_strength
        self.prior_strength_ = prior_strength
        self.bandwidth_ = bandwidth
        self.temperature_ = temperature
        self.neighbours_ = neighbours
        self.text_ = text  # the examples' words, read (text.py); None without text features
        self.trees_ = trees  # boosted trees on the examples (boosting.py), None when off
        self.forest_floor_ = forest_floor if trees is not None else 0.0
        self.veto_reach_ = veto_reach
        self.rule_reliability_: dict[int, float] = {
            int(i): float(r) for i, r in zip(rules.ids, rules.reliability, strict=True)
        }
        self.metrics_: dict[str, Any] = {}
        self._explainer_cache: Explainer | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_explainer_cache"] = None
        return state

    # --- answering ----------------------------------------------------------------------

    def predict_proba(
        self,
        table: Table,
        *,
        without: Sequence[Collection[int]] | None = None,
        matched: np.ndarray | None = None,
    ) -> np.ndarray:
        """(n_rows, n_labels) calibrated probabilities, columns in ``labels_`` order.

        ``without[i]``: ids of rules taken as not firing at row ``i`` (a deletion test of an
        explanation: what the model says there without the rules it named). ``matched``:
        (rules then concepts, rows) what ``matcher_`` gives on ``table``, when the caller
        has it already (a fit measuring its evaluation examples: caching.MaskCache)."""
        silenced = self._silenced(table.n_rows, without)
        parts = [
            self._evidence(
                part,
                explain=False,
                silenced=silenced[:, rows],
                matched=matched[:, rows] if matched is not None else None,
            ).counts
            for part, rows in zip(self._parts(table), self._slices(table), strict=True)
        ]
        counts = np.vstack(parts) if parts else np.zeros((0, len(self.labels_)))
        return tempered(counts, self.temperature_)

    def prepare(self) -> None:
        """Build ahead what answering builds on first use, e.g. while a new version warms
        up: the trees' path tables that explanations read (``prepare_explaining``) and the
        neighbour search's reach filter (``prepare_batches``)."""
        self.prepare_explaining()
        self.prepare_batches()

    def prepare_explaining(self) -> None:
        """The trees' path tables that explaining a row reads (``ExampleTrees.prepare``)."""
        if self.trees_ is not None:
            self.trees_.prepare()

    def prepare_batches(self) -> None:
        """The neighbour search's reach filter (reach.py: ~4–12 ms at M for a new set of
        examples), which only batches of ``neighbours.FILTER_MIN_ROWS`` rows or more read."""
        if self.examples_.index.n:
            self.examples_.index.prepare(self._reach())

    def _reach(self) -> float:
        """How far predicting looks for examples: the kernel's cut (kernel_evidence)."""
        return 3 * self.bandwidth_

    def predict(self, table: Table) -> list[str]:
        """The most probable label of each row (the first in ``labels_`` order on a tie)."""
        return self._labels_of(self.predict_proba(table))

    def explain(self, table: Table) -> list[Explanation]:
        """Each row's prediction with the rules that counted, the concepts that held, the
        nearest teaching examples and everyone whose teaching took part."""
        explainer = self._explainer()
        explanations: list[Explanation] = []
        for labels, probabilities, evidence, deciding in self._explained_parts(table):
            explanations += explainer.explain(
                labels,
                probabilities,
                evidence.fired,
                deciding,
                evidence.held,
                evidence.found,
                evidence.squared,
            )
        if self.text_ is not None:  # its words act through its mass and the neighbours
            explanations = self._with_words(table, explanations)
        return explanations

    def explain_compact(self, table: Table) -> list[dict[str, Any]]:
        """Each row's prediction with a compact explanation (``Explainer.compact``): the
        deciding rules first and counts of the rest, in the predict endpoint's shape."""
        explainer = self._explainer()
        predictions: list[dict[str, Any]] = []
        for labels, probabilities, evidence, deciding in self._explained_parts(table):
            predictions += explainer.compact(
                labels, probabilities, evidence.fired, deciding, evidence.found, evidence.squared
            )
        return predictions

    def _explained_parts(self, table: Table):
        """Per block of rows: the predicted labels, their probabilities, the evidence behind
        them and the deciding rules — what both explanation formats are built from."""
        for part in self._parts(table):
            evidence = self._evidence(part, explain=True)
            probabilities = tempered(evidence.counts, self.temperature_)
            deciding = self._deciding(part, evidence, probabilities)
            yield self._labels_of(probabilities), probabilities, evidence, deciding

    def _deciding(self, table: Table, evidence: _Evidence, probabilities: np.ndarray) -> np.ndarray:
        """(rules, rows) the rules that decide each row's prediction (deciding.py)."""
        return deciding_rules(self, table, evidence, probabilities)

    def _with_words(self, table: Table, explanations: list[Explanation]) -> list[Explanation]:
        """The explanations with the words that pushed each answer most and their teachers
        (who also join the contributors)."""
        reader = self.text_
        assert reader is not None
        index = {name: i for i, name in enumerate(self.labels_)}
        result = []
        for document, explanation in zip(reader.documents(table), explanations, strict=True):
            words = reader.pushing_words(document, index[explanation.label])
            contributors = list(explanation.contributors)
            for word in words:
                contributors += [t for t in word["teachers"] if t not in contributors]
            result.append(replace(explanation, words=words, contributors=contributors))
        return result

    def _explainer(self) -> Explainer:
        # Built on first use, not stored: it is derived from the tables in milliseconds.
        if self._explainer_cache is None:
            self._explainer_cache = Explainer(
                self.labels_,
                self.rules_,
                self.concept_names_,
                self.concept_authors_,
                self.examples_,
            )
        return self._explainer_cache

    def _parts(self, table: Table) -> list[Table]:
        # Rows go through in blocks so that the (rules × rows) intermediates stay small.
        return [table_slice(table, rows) for rows in self._slices(table)]

    def _slices(self, table: Table) -> list[slice]:
        return list(row_slices(table.n_rows, ROWS_PER_PART))

    def _silenced(self, n_rows: int, without: Sequence[Collection[int]] | None) -> np.ndarray:
        """(rules, rows) True where ``without`` switches a rule off (all False without it)."""
        silenced = np.zeros((len(self.rules_.ids), n_rows if without is not None else 0), bool)
        if without is None:
            return silenced
        position = {int(i): p for p, i in enumerate(self.rules_.ids.tolist())}
        for row, ids in enumerate(without):
            for rule_id in ids:
                if rule_id in position:
                    silenced[position[rule_id], row] = True
        return silenced

    def _labels_of(self, probabilities: np.ndarray) -> list[str]:
        if not self.labels_:
            return [""] * len(probabilities)  # a schema without labels has nothing to say
        return [self.labels_[i] for i in probabilities.argmax(axis=1)]

    def _evidence(
        self,
        table: Table,
        *,
        explain: bool,
        silenced: np.ndarray | None = None,
        matched: np.ndarray | None = None,
    ) -> _Evidence:
        """Pseudo-counts per label: scaled teaching prior + rule votes + near examples."""
        rules = self.rules_
        if matched is None:
            fired, held = self.matcher_.match(table)
        else:  # a copy: losers are silenced in place
            n_rules = self.matcher_.n_rules
            fired, held = matched[:n_rules].copy(), matched[n_rules:]
        fired = suppress_losers(fired, rules.winners, rules.losers)
        if silenced is not None and silenced.shape[1]:
            fired &= ~silenced
        counts = self.rule_strength_ * self.prior_strength_ * self.label_prior_
        counts = np.repeat(counts[None, :], table.n_rows, axis=0)
        examples = self.examples_
        none = np.zeros((table.n_rows, 0), dtype=np.int64)
        if examples.index.n == 0 or table.n_rows == 0:
            ruled, _ = self._ruled(table, fired, held, none, none.astype(np.float32))
            return _Evidence(counts + ruled, fired, held, none, none.astype(np.float32), counts)
        text = self.text_.table_probabilities(table) if self.text_ is not None else None
        points = self.encoder_.transform(table, held.T, text)
        k = max(self.neighbours_, EXPLAINED_EXAMPLES) if explain else self.neighbours_
        # Predicting needs only neighbours within the kernel's reach; explaining always
        # names the nearest examples, however far.
        radius = np.inf if explain else self._reach()
        found, squared = examples.index.nearest(points, k, radius=radius)
        if text is not None and self.text_.mass:
            counts += self.text_.mass * text
        counts += kernel_evidence(
            found[:, : self.neighbours_],
            squared[:, : self.neighbours_],
            examples.labels,
            examples.weights,
            self.bandwidth_,
            len(self.labels_),
        )
        # Explaining keeps the forest's input and leaves: the deciding rules start from them.
        inputs = forest_input(self, table, fired, held, found) if explain else None
        answers = inputs.answers if inputs is not None else None
        ruled, forest = self._ruled(table, fired, held, found, squared, answers)
        blended = self._floored(counts + ruled, forest)
        kept = forest if inputs is not None else None
        return _Evidence(blended, fired, held, found, squared, counts, inputs, kept)

    def _floored(self, counts: np.ndarray, forest: np.ndarray) -> np.ndarray:
        """``counts`` with the forest's floor (blending.forest_floor): a mixture with the
        forest's own answer, in proportion to each row's total and the forest's support."""
        if not self.forest_floor_ or not forest.size:
            return counts
        return counts + self.forest_floor_ * counts.sum(axis=1, keepdims=True) * forest

    def _ruled(
        self,
        table: Table,
        fired: np.ndarray,
        held: np.ndarray,
        found: np.ndarray,
        squared: np.ndarray,
        answers: np.ndarray | None = None,
    ) -> np.ndarray:
        """The pseudo-counts that depend on which rules fire: their votes and the forest's
        (which reads them as columns), (rows, labels); and the forest's at mass 1 (empty
        without a forest). ``answers``: the forest's probabilities, when the caller has
        them already."""
        counts = self.rule_strength_ * (fired.T.astype(np.float64) @ self.rules_.votes)
        trees = self.trees_
        forest = np.zeros((0, 0))
        if self._reads_forest(table, found):
            assert trees is not None
            if answers is None:
                answers = trees.probabilities(trees.encode(table, fired, held))
            forest = self._forest_counts(answers, trees.support(fired), found, squared)
            counts += trees.mass * forest
        return counts, forest

    def _forest_counts(
        self, answers: np.ndarray, support: np.ndarray, found: np.ndarray, squared: np.ndarray
    ) -> np.ndarray:
        """The forest's pseudo-counts at mass 1 (blending.tree_evidence) from its
        ``answers`` and ``support`` at rows whose neighbours are ``found``/``squared``."""
        trees = self.trees_
        assert trees is not None
        return tree_evidence(
            answers,
            support,
            found,
            squared,
            trees.vetoes,
            self.examples_.labels,
            self.bandwidth_ if self.veto_reach_ is None else self.veto_reach_,
            1.0,
        )

    def _reads_forest(self, table: Table, found: np.ndarray) -> bool:
        trees = self.trees_
        return trees is not None and not trees.legacy and bool(found.shape[1]) and table.n_rows > 0

    # --- storing ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The model as bytes for our own database (pickle: we only load what we stored)."""
        return pickle.dumps((ARTEFACT_FORMAT, self), protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data: bytes) -> TaughtModel:
        """A model stored by ``to_bytes``; refuses other formats rather than half-loading."""
        version, model = pickle.loads(data)
        if version != ARTEFACT_FORMAT or not isinstance(model, cls):
            raise ValueError(f"Not a model artefact of format {ARTEFACT_FORMAT}.")
        return model
