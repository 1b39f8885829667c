"""The consensus core: find contradictory teachings, explain them, group them into threads.

Plain Python (numpy), no Django. The ``consensus`` app loads teachings through
selectors, builds the items below, and stores what comes back.
"""

from mola.engine.consensus.index import ConsensusIndex, refreshed
from mola.engine.consensus.items import (
    CONCEPT_DUPLICATE,
    EXAMPLE_CONFLICT,
    KINDS,
    RULE_EXAMPLE,
    RULE_EXCEPTION,
    RULE_OVERLAP,
    ConceptItem,
    Contradiction,
    ExampleItem,
    Ref,
    RuleItem,
    contradiction_key,
)
from mola.engine.consensus.thread_grouping import ThreadGrouping
from mola.engine.consensus.threads import ThreadGroup, group_into_threads, threads_within_budget

__all__ = [
    "CONCEPT_DUPLICATE",
    "EXAMPLE_CONFLICT",
    "KINDS",
    "RULE_EXAMPLE",
    "RULE_EXCEPTION",
    "RULE_OVERLAP",
    "ConceptItem",
    "ConsensusIndex",
    "Contradiction",
    "ExampleItem",
    "Ref",
    "RuleItem",
    "ThreadGroup",
    "ThreadGrouping",
    "contradiction_key",
    "group_into_threads",
    "refreshed",
    "threads_within_budget",
]
