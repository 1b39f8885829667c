"""Small builders for the learning tests: a three-label serve schema and terse teachings."""

from __future__ import annotations

from mola.engine.language import Condition, compile_condition
from mola.engine.learning import ConceptSpec, ExampleSpec, Precedence, RuleSpec, Snapshot, fit
from mola.engine.learning.model import TaughtModel
from mola.engine.schema import Schema
from mola.engine.table import Table, table_from_rows
from tests.engine.conftest import SERVE_FEATURES, serve_row

FRONT, NONE, KNEES = "toss in front", "no cue", "bend knees"
SCHEMA = Schema.from_dicts(SERVE_FEATURES, [{"name": FRONT}, {"name": NONE}, {"name": KNEES}])
HIGH_TOSS = compile_condition("toss_height_cm > 60", SCHEMA)
CONCEPTS = {"high_toss": HIGH_TOSS}


def rule(
    id: int,
    text: str,
    label: str,
    *,
    author: str = "ann",
    expertise: str = "expert",
    disputed: bool = False,
) -> RuleSpec:
    return RuleSpec(
        id=id,
        label=label,
        author=author,
        expertise=expertise,
        condition=compile_condition(text, SCHEMA, CONCEPTS),
        disputed=disputed,
    )


def example(
    id: int,
    label: str,
    *,
    author: str = "eve",
    expertise: str = "expert",
    refutes: int | None = None,
    evaluation: bool = False,
    disputed: bool = False,
    **values: object,
) -> ExampleSpec:
    return ExampleSpec(
        id=id,
        features=serve_row(**values),
        label=label,
        author=author,
        expertise=expertise,
        refutes=refutes,
        evaluation=evaluation,
        disputed=disputed,
    )


def concept(id: int = 1, name: str = "high_toss", author: str = "cat") -> ConceptSpec:
    condition: Condition = CONCEPTS[name]
    return ConceptSpec(id=id, name=name, author=author, condition=condition)


def snapshot(
    rules=(), examples=(), concepts=(), precedences=(), schema: Schema = SCHEMA
) -> Snapshot:
    return Snapshot(
        schema=schema,
        concepts=tuple(concepts),
        rules=tuple(rules),
        examples=tuple(examples),
        precedences=tuple(Precedence(w, lo) for w, lo in precedences),
        revision=7,
    )


def rows(*cases: dict[str, object], schema: Schema = SCHEMA) -> Table:
    """A table of serve rows, each given as overrides of ``serve_row``'s defaults."""
    return table_from_rows(schema, [serve_row(**case) for case in cases])


def predict_one(model: TaughtModel, **values: object) -> str:
    return model.predict(rows(values))[0]


def trained(**parts) -> TaughtModel:
    return fit(snapshot(**parts), random_state=0)
