"""Where the example trees lived while they were boosted trees: kept so that artefacts
pickled then still load (their trees are marked ``legacy`` and left unused: the model
answers with its rules and neighbours until the space is refitted), and for imports of
``MIN_TREE_EXAMPLES`` and ``FitCancelled``. The trees are a forest now: forest.py."""

from mola.engine.learning.forest import MIN_TREE_EXAMPLES, ExampleTrees, FitCancelled

__all__ = ["MIN_TREE_EXAMPLES", "ExampleTrees", "FitCancelled"]
