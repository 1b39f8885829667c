"""A space's schema as plain data: typed input features and output labels.

The Django side stores the schema as JSON and builds these dataclasses; everything in the
engine takes a ``Schema`` so it can be tested without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FeatureKind = Literal["number", "category", "boolean"]
FEATURE_KINDS: tuple[str, ...] = ("number", "category", "boolean")


@dataclass(frozen=True)
class Feature:
    name: str
    kind: FeatureKind
    description: str = ""
    unit: str = ""
    min: float | None = None  # inclusive bounds of a number feature, when known
    max: float | None = None
    choices: tuple[str, ...] = ()  # the allowed values of a category feature

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
                )
                for f in features
            ),
            labels=tuple(
                Label(name=lab["name"], description=lab.get("description", "") or "")
                for lab in labels
            ),
        )
