"""A space's schema as plain data: typed input features and output labels.

The Django side stores the schema as JSON and builds these dataclasses; everything in the
engine takes a ``Schema`` so it can be tested without a database.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from mola.engine.text import DEFAULT_MAX_LENGTH, MAX_MAX_LENGTH

FeatureKind = Literal["number", "category", "boolean", "text"]
FEATURE_KINDS: tuple[str, ...] = ("number", "category", "boolean", "text")


@dataclass(frozen=True)
class Feature:
    name: str
    kind: FeatureKind
    description: str = ""
    unit: str = ""
    min: float | None = None  # inclusive bounds of a number feature, when known
    max: float | None = None
    choices: tuple[str, ...] = ()  # the allowed values of a category feature
    max_length: int = DEFAULT_MAX_LENGTH  # characters of a text feature's value

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.description:
            data["description"] = self.description
        if self.kind == "number":
            if self.unit:
                data["unit"] = self.unit
            if self.min is not None:
                data["min"] = self.min
            if self.max is not None:
                data["max"] = self.max
        if self.kind == "category":
            data["choices"] = list(self.choices)
        if self.kind == "text":
            data["max_length"] = self.max_length
        return data


@dataclass(frozen=True)
class Label:
    name: str
    description: str = ""


@dataclass(frozen=True)
class Schema:
    features: tuple[Feature, ...]
    labels: tuple[Label, ...]
    _by_name: dict[str, Feature] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.features})

    def feature(self, name: str) -> Feature | None:
        return self._by_name.get(name)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    @classmethod
    def from_dicts(cls, features: list[dict], labels: list[dict]) -> Schema:
        """Build a schema from the JSON the API stores (already validated)."""
        return cls(
            features=tuple(
                Feature(
                    name=f["name"],
                    kind=f["kind"],
                    description=f.get("description", "") or "",
                    unit=f.get("unit", "") or "",
                    min=f.get("min"),
                    max=f.get("max"),
                    choices=tuple(f.get("choices") or ()),
                    max_length=f.get("max_length") or DEFAULT_MAX_LENGTH,
                )
                for f in features
            ),
            labels=tuple(
                Label(name=lab["name"], description=lab.get("description", "") or "")
                for lab in labels
            ),
        )


NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
RESERVED_NAMES = frozenset(
    {"and", "or", "not", "in", "between", "true", "false"}
    # the text words of the condition language
    | {"contains", "contains_text", "matches", "any", "all"}
)
MAX_FEATURES = 200
MAX_LABELS = 100
MAX_CHOICES = 200


def _name_problem(name: Any, field: str) -> dict[str, str] | None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return {
            "field": field,
            "code": "invalid_name",
            "message": "A name starts with a letter and has only letters, digits and _ "
            "(at most 64 characters).",
        }
    if name.lower() in RESERVED_NAMES:
        return {"field": field, "code": "reserved_name", "message": f"{name!r} is a keyword."}
    return None


def schema_problems(features: list[dict], labels: list[dict]) -> list[dict[str, str]]:
    """Everything wrong with a schema given as the API's JSON (an empty list when valid).

    Checks names (identifiers, not keywords, unique across features), kinds, choices
    (non-empty, unique strings), number bounds (min < max) and at least two labels.
    """
    problems: list[dict[str, str]] = []
    if not features:
        problems.append(
            {
                "field": "features",
                "code": "required",
                "message": "A schema needs at least one feature.",
            }
        )
    if len(features) > MAX_FEATURES:
        problems.append(
            {
                "field": "features",
                "code": "too_many",
                "message": f"At most {MAX_FEATURES} features.",
            }
        )
    seen: set[str] = set()
    for index, feature in enumerate(features):
        field = f"features.{index}"
        name = feature.get("name")
        problem = _name_problem(name, f"{field}.name")
        if problem:
            problems.append(problem)
        elif name in seen:
            problems.append(
                {
                    "field": f"{field}.name",
                    "code": "duplicate",
                    "message": f"Feature {name!r} is defined twice.",
                }
            )
        seen.add(name)
        problems.extend(_feature_kind_problems(feature, field))
    if len(labels) < 2:
        problems.append(
            {"field": "labels", "code": "too_few", "message": "A schema needs at least two labels."}
        )
    if len(labels) > MAX_LABELS:
        problems.append(
            {"field": "labels", "code": "too_many", "message": f"At most {MAX_LABELS} labels."}
        )
    label_names: set[str] = set()
    for index, label in enumerate(labels):
        name = label.get("name")
        # Labels are what a coach says ("toss in front"), never referenced in conditions,
        # so they may contain spaces.
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            problems.append(
                {
                    "field": f"labels.{index}.name",
                    "code": "invalid_name",
                    "message": "A label name is 1 to 64 characters.",
                }
            )
        elif name in label_names:
            problems.append(
                {
                    "field": f"labels.{index}.name",
                    "code": "duplicate",
                    "message": f"Label {name!r} is defined twice.",
                }
            )
        label_names.add(name)
    return problems


def _problem(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def _feature_kind_problems(feature: dict, field: str) -> list[dict[str, str]]:
    kind = feature.get("kind")
    if kind not in FEATURE_KINDS:
        message = f"kind must be one of {', '.join(FEATURE_KINDS)}."
        return [_problem(f"{field}.kind", "invalid_choice", message)]
    problems = []
    if kind == "number":
        problems.extend(_number_bound_problems(feature, field))
    if kind == "category":
        problems.extend(_choices_problems(feature.get("choices") or [], f"{field}.choices"))
    elif feature.get("choices"):
        problems.append(
            _problem(f"{field}.choices", "invalid", "Only category features have choices.")
        )
    if kind == "text":
        problems.extend(_max_length_problems(feature, field))
    elif feature.get("max_length") is not None:
        problems.append(
            _problem(f"{field}.max_length", "invalid", "Only text features have a max_length.")
        )
    return problems


def _number_bound_problems(feature: dict, field: str) -> list[dict[str, str]]:
    low, high = feature.get("min"), feature.get("max")
    problems = [
        _problem(f"{field}.{name}", "invalid", f"{name} must be a finite number.")
        for name, bound in (("min", low), ("max", high))
        if bound is not None
        and (
            isinstance(bound, bool)
            or not isinstance(bound, int | float)
            or not math.isfinite(bound)
        )
    ]
    if not problems and low is not None and high is not None and low >= high:
        problems.append(_problem(f"{field}.max", "invalid_range", "max must be greater than min."))
    return problems


def _choices_problems(choices: list, field: str) -> list[dict[str, str]]:
    if not choices:
        return [_problem(field, "required", "A category feature needs its choices.")]
    if len(choices) > MAX_CHOICES:
        return [_problem(field, "too_many", f"At most {MAX_CHOICES} choices.")]
    if not all(isinstance(c, str) and c and len(c) <= 100 for c in choices):
        message = "Choices are non-empty strings (at most 100 chars)."
        return [_problem(field, "invalid", message)]
    if len(set(choices)) != len(choices):
        return [_problem(field, "duplicate", "Choices must be unique.")]
    return []


def _max_length_problems(feature: dict, field: str) -> list[dict[str, str]]:
    limit = feature.get("max_length")
    if limit is None:
        return []
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_MAX_LENGTH:
        return [
            {
                "field": f"{field}.max_length",
                "code": "invalid",
                "message": f"max_length is a whole number from 1 to {MAX_MAX_LENGTH:,}.",
            }
        ]
    return []
