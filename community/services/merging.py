"""Merging concepts: the kept concept's name replaces the merged ones in every live
definition and condition that named them, through the teaching services (so each rewrite
is validated and recorded as a revision)."""

from __future__ import annotations

from mola.engine.language import ConditionError, parse
from mola.engine.language.nodes import Name, syntax_children
from teaching.models import Concept, Rule, Space, Teaching
from teaching.services import concepts as concept_services
from teaching.services import rules as rule_services


def name_replace(text: str, *, old: str, new: str) -> str:
    """``text`` with every reference to the name ``old`` written ``new``.

    Works on the parse tree's name positions, so strings, comments and longer names that
    merely contain ``old`` are left alone. Text that does not parse is returned unchanged.
    """
    try:
        stack = [parse(text)]
    except ConditionError:
        return text
    positions: list[int] = []
    while stack:
        node = stack.pop()
        if isinstance(node, Name) and node.name == old:
            positions.append(node.position)
        stack.extend(syntax_children(node))
    for position in sorted(positions, reverse=True):
        if text[position : position + len(old)] == old:
            text = text[:position] + new + text[position + len(old) :]
    return text


def concept_references_rewrite(
    *, space: Space, user, merged: list[Concept], kept: Concept
) -> list[Teaching]:
    """Point every live teaching that names a ``merged`` concept at ``kept`` instead.

    Returns the rewritten teachings. Raises the teaching services' errors (e.g. a cycle when
    ``kept`` itself named a merged concept); the caller's transaction then rolls back.
    """
    rewritten: dict[tuple[str, int], Teaching] = {}
    for concept in merged:
        dependents = concept_services.concept_dependents(space=space, name=concept.name)
        for ref in dependents:
            if ref["type"] == "concept":
                target = Concept.objects.get(pk=ref["id"])
                text = name_replace(target.definition, old=concept.name, new=kept.name)
                if text != target.definition:
                    target, _, _ = concept_services.concept_update(
                        space=space, user=user, concept_id=target.pk, definition=text
                    )
                    rewritten[("concept", target.pk)] = target
            else:
                rule = Rule.objects.get(pk=ref["id"])
                text = name_replace(rule.condition, old=concept.name, new=kept.name)
                if text != rule.condition:
                    rule, _ = rule_services.rule_update(
                        space=space, user=user, rule_id=rule.pk, condition=text
                    )
                    rewritten[("rule", rule.pk)] = rule
    return list(rewritten.values())
