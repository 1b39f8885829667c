"""Which words of a text made a condition hold: spans to highlight in the text as written.

Only the atoms a condition *asks for* are highlighted (under an even number of ``not``):
``contains "check out" and not contains "song"`` marks "check out", never "song". Concepts
are followed to their own atoms.
"""

from __future__ import annotations

from mola.engine.language.condition import Condition
from mola.engine.language.nodes import AllOf, AnyOf, Checked, ConceptRef, Negation, TextTest
from mola.engine.language.text_atoms import Atom, atom_spans
from mola.engine.text import highlight_spans


def asked_atoms(condition: Condition, feature: str) -> list[Atom]:
    """The atoms on ``feature`` the condition asks for (not negated), in order, once each."""
    found: dict[Atom, None] = {}
    stack: list[tuple[Checked, bool, Condition]] = [(condition.tree, True, condition)]
    while stack:
        node, positive, owner = stack.pop()
        if isinstance(node, TextTest):
            if positive and node.feature == feature:
                found[node.atom] = None
        elif isinstance(node, Negation):
            stack.append((node.item, not positive, owner))
        elif isinstance(node, AllOf | AnyOf):
            stack.extend((item, positive, owner) for item in reversed(node.items))
        elif isinstance(node, ConceptRef):
            concept = owner.concept_conditions.get(node.name)
            if concept is not None:
                stack.append((concept.tree, positive, concept))
    return list(found)


def condition_highlights(condition: Condition, feature: str, text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of ``text`` (as written) matched by the atoms the condition
    asks for on ``feature``; empty when none matches."""
    atoms = asked_atoms(condition, feature)
    if not atoms or not isinstance(text, str):
        return []
    return highlight_spans(
        text,
        [
            lambda normalised, folded, atom=atom: atom_spans(atom, normalised, folded)
            for atom in atoms
        ],
    )
