"""Turn a pair of examples or of concepts the index found in conflict into a
``Contradiction`` (the rule kinds are ``findings``'). Each builder orders the pair by id
first, so the same pair gives the same result whichever teaching was checked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mola.engine.consensus.geometry import quoted_text, span_region
from mola.engine.consensus.items import (
    CONCEPT_DUPLICATE,
    EXAMPLE_CONFLICT,
    ConceptItem,
    Contradiction,
    ExampleItem,
    Ref,
    contradiction_key,
    teaching_name,
    teaching_words,
)
from mola.engine.consensus.severity import KIND_WEIGHT

if TYPE_CHECKING:
    from mola.engine.consensus.index import ConsensusIndex

NEAR_FACTOR = 0.8  # nearly the same case is a little less certain than exactly the same


def example_pair(index: ConsensusIndex, x: ExampleItem, y: ExampleItem) -> Contradiction:
    """Two examples with different labels at (nearly) the same point (precondition)."""
    a, b = (x, y) if x.id < y.id else (y, x)
    first, second = _point(index, a), _point(index, b)
    identical = first == second
    if index.has_text and not identical:  # near-duplicate texts are the same case
        identical = _same_but_texts(index, first, second)
    region = span_region(index.schema, [first, second], index.domains)
    text = index.reader.words(region)
    if index.has_text:  # texts are no boxes: say the first example's text
        quoted = [
            quoted_text(f.name, first[f.name]) for f in index.schema.features if f.kind == "text"
        ]
        text = " and ".join([*quoted, *([] if text == "every case" else [text])])
    evidence: dict[str, int] = {}
    for item in (a, b):
        evidence[item.label] = evidence.get(item.label, 0) + (not item.evaluation)
    how = (
        "the same case"
        if identical
        else (f"nearly the same case (every number within {index.tolerance:.0%} of its range)")
    )
    teachings = (a.ref, b.ref)
    return Contradiction(
        kind=EXAMPLE_CONFLICT,
        teachings=teachings,
        witness=first,
        region_text=text,
        evidence=evidence,
        severity=round(KIND_WEIGHT[EXAMPLE_CONFLICT] * (1.0 if identical else NEAR_FACTOR), 4),
        note=f"{teaching_name(a).capitalize()} and {teaching_name(b)} describe {how} with "
        "different labels: the model cannot follow both. One label may be wrong, or a feature "
        "that tells the cases apart is missing from the schema.",
        key=contradiction_key(EXAMPLE_CONFLICT, teachings),
        summary=f"{teaching_words(a, first=True)}, {teaching_words(b, first=False)}, when {text}",
    )


def concept_pair(index: ConsensusIndex, x: ConceptItem, y: ConceptItem) -> Contradiction:
    """Two concepts holding in exactly the same cases (precondition)."""
    a, b = (x, y) if x.id < y.id else (y, x)
    text = index.reader.words(a.region)
    teachings: tuple[Ref, ...] = (a.ref, b.ref)
    return Contradiction(
        kind=CONCEPT_DUPLICATE,
        teachings=teachings,
        witness=a.region.witness() or {},
        region_text=text,
        evidence={},
        severity=KIND_WEIGHT[CONCEPT_DUPLICATE],
        note=f"Concepts {a.name} and {b.name} hold in exactly the same cases; consider merging "
        "them into one name.",
        key=contradiction_key(CONCEPT_DUPLICATE, teachings),
        summary=f"Concept {a.name} ({a.author}) and concept {b.name} ({b.author}) mean the "
        f"same: {text}",
    )


def _same_but_texts(index: ConsensusIndex, first: dict, second: dict) -> bool:
    """Equal off the texts (whose near-duplicates count as the same case)."""
    return all(first[f.name] == second[f.name] for f in index.schema.features if f.kind != "text")


def _point(index: ConsensusIndex, example: ExampleItem) -> dict:
    """The example's values in schema order (a copy the caller may keep)."""
    return {name: example.point[name] for name in index.schema.feature_names}
