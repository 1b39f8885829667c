"""Hypothesis strategies: random schemas, valid condition texts over them, and rows.

Numbers are drawn from one small pool shared by schema bounds, literals and row values, so
rows land exactly on the boundaries conditions draw (``x > 2`` meets rows with ``x == 2``).

Condition *shapes* come from one fixed strategy (a tree of ``and``/``or``/``not`` over leaves
of plain integers) and are rendered against a schema afterwards: building strategies per
schema inside every example made generation ten times slower than the tests themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from mola.engine.schema import Feature, Schema

NUMBER_POOL = (-10.0, -2.5, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 7.25, 10.0)
CHOICE_POOL = ("jump", "float", "under hand", 'quote"d', "é")
COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


@dataclass(frozen=True)
class World:
    """A schema plus the texts of concepts defined over it (compiled in order)."""

    schema: Schema
    concept_texts: tuple[tuple[str, str], ...]


def number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


@st.composite
def feature_dicts(draw: st.DrawFn, index: int) -> dict:
    kind = draw(st.sampled_from(["number", "category", "boolean"]))
    name = f"{kind[0]}{index}"
    if kind == "number":
        bounds = draw(st.lists(st.sampled_from(NUMBER_POOL), min_size=2, max_size=2, unique=True))
        low, high = sorted(bounds)
        feature: dict = {"name": name, "kind": kind}
        if draw(st.booleans()):
            feature["min"] = low
        if draw(st.booleans()):
            feature["max"] = high
        return feature
    if kind == "category":
        choices = draw(st.lists(st.sampled_from(CHOICE_POOL), min_size=1, max_size=4, unique=True))
        return {"name": name, "kind": kind, "choices": choices}
    return {"name": name, "kind": kind}


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    count = draw(st.integers(1, 4))
    features = [draw(feature_dicts(index)) for index in range(count)]
    return Schema.from_dicts(features, [{"name": "yes"}, {"name": "no"}])


# A leaf is five integers and a short list of integers, read by ``_render_leaf``.
_LEAF = st.tuples(
    st.integers(0, 999), st.integers(0, 999), st.integers(0, 999), st.integers(0, 999),
    st.integers(0, 999), st.lists(st.integers(0, 999), max_size=3),
)  # fmt: skip


def condition_shapes(max_leaves: int = 8) -> st.SearchStrategy[Any]:
    return st.recursive(
        _LEAF,
        lambda inner: st.one_of(
            st.tuples(st.just("and"), inner, inner),
            st.tuples(st.just("or"), inner, inner),
            st.tuples(st.just("not"), inner),
        ),
        max_leaves=max_leaves,
    )


SHAPES = condition_shapes()
SMALL_SHAPES = condition_shapes(max_leaves=3)


def render(shape: Any, world: World) -> str:
    """The condition text of ``shape`` over ``world``'s features and concepts."""
    if shape[0] == "and":
        return f"({render(shape[1], world)}) and ({render(shape[2], world)})"
    if shape[0] == "or":
        return f"{render(shape[1], world)} or {render(shape[2], world)}"
    if shape[0] == "not":
        return f"not ({render(shape[1], world)})"
    return _render_leaf(shape, world)


def _render_leaf(leaf: tuple, world: World) -> str:
    which, form, a, b, c, items = leaf
    targets: list[Feature | str | None] = [*world.schema.features, None]
    targets.extend(name for name, _ in world.concept_texts)
    target = targets[which % len(targets)]
    if target is None:
        return ("true", "false")[form % 2]
    if isinstance(target, str) or target.kind == "boolean":
        return _truth_leaf(target if isinstance(target, str) else target.name, form, a, items)
    if target.kind == "number":
        return _number_leaf(target.name, form, a, b, c, items)
    return _category_leaf(target, form, a, b, items)


def _number_leaf(name: str, form: int, a: int, b: int, c: int, items: list[int]) -> str:
    op, low, high = COMPARISONS[a % 6], _pooled(b), _pooled(c)
    match form % 5:
        case 0:
            return f"{name} {op} {number_text(low)}"
        case 1:
            return f"{number_text(low)} {op} {name}"
        case 2:
            low, high = sorted((low, high))
            return f"{name} between {number_text(low)} and {number_text(high)}"
        case kind:
            listed = ", ".join(number_text(_pooled(i)) for i in items)
            return f"{name} {'in' if kind == 3 else 'not in'} [{listed}]"


def _category_leaf(feature: Feature, form: int, a: int, b: int, items: list[int]) -> str:
    choice = json.dumps(feature.choices[b % len(feature.choices)])
    op = ("==", "!=")[a % 2]
    match form % 4:
        case 0:
            return f"{feature.name} {op} {choice}"
        case 1:
            return f"{choice} {op} {feature.name}"
        case kind:
            listed = ", ".join(json.dumps(feature.choices[i % len(feature.choices)]) for i in items)
            return f"{feature.name} {'in' if kind == 2 else 'not in'} [{listed}]"


def _truth_leaf(name: str, form: int, a: int, items: list[int]) -> str:
    truth = ("true", "false")[a % 2]
    match form % 4:
        case 0:
            return name
        case 1:
            return f"{name} == {truth}"
        case 2:
            return f"{name} != {truth}"
        case _:
            return f"{name} in [{', '.join(('true', 'false')[i % 2] for i in items[:2])}]"


def _pooled(index: int) -> float:
    return NUMBER_POOL[index % len(NUMBER_POOL)]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """A schema with up to two concepts, the second possibly using the first."""
    world = World(draw(schemas()), ())
    for index in range(draw(st.integers(0, 2))):
        text = render(draw(SMALL_SHAPES), world)
        world = World(world.schema, (*world.concept_texts, (f"k{index}", text)))
    return world


@st.composite
def condition_texts(draw: st.DrawFn, world: World, small: bool = False) -> str:
    return render(draw(SMALL_SHAPES if small else SHAPES), world)


@st.composite
def rows(draw: st.DrawFn, schema: Schema) -> dict:
    row: dict = {}
    for feature in schema.features:
        pick = draw(st.integers(0, 999))
        if feature.kind == "number":
            pool = [
                value
                for value in NUMBER_POOL
                if (feature.min is None or value >= feature.min)
                and (feature.max is None or value <= feature.max)
            ]
            row[feature.name] = pool[pick % len(pool)]
        elif feature.kind == "category":
            row[feature.name] = feature.choices[pick % len(feature.choices)]
        else:
            row[feature.name] = pick % 2 == 1
    return row
