"""The condition language: parse, type-check, evaluate vectorised, compile to exact regions.

    toss_height_cm > 60 and serve_type in ["jump", "float"]
    elbow_angle between 80 and 100
    not high_toss or fatigued            # concept and boolean-feature references

See docs/engine-contract.md. Every failure is a ``ConditionError``.
"""

from mola.engine.language.condition import Condition, compile_condition
from mola.engine.language.errors import MAX_DEPTH, MAX_NUMBER, MAX_TEXT_LENGTH, ConditionError
from mola.engine.language.intervals import Interval
from mola.engine.language.parser import parse, referenced_names
from mola.engine.language.regions import MAX_BOXES, Box, Region

__all__ = [
    "MAX_BOXES",
    "MAX_DEPTH",
    "MAX_NUMBER",
    "MAX_TEXT_LENGTH",
    "Box",
    "Condition",
    "ConditionError",
    "Interval",
    "Region",
    "compile_condition",
    "parse",
    "referenced_names",
]
