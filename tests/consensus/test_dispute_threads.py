"""The leaders and followers a check's thread plan keeps current equal those worked out
from scratch (``_representatives`` over every open dispute), whatever changes between
checks. Pure: no database."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from consensus.dispute_threads import (
    THREAD_MIN_SEVERITY,
    ThreadMemory,
    _representatives,
    threads_plan,
)
from mola.engine.consensus import RULE_EXAMPLE, RULE_OVERLAP, Contradiction, Ref
from mola.engine.consensus import contradiction_key as key_of


def _found(kind: str, a: Ref, b: Ref, severity: float, expected: bool) -> Contradiction:
    teachings = tuple(sorted((a, b)))
    return Contradiction(
        kind=kind,
        teachings=teachings,
        witness={},
        region_text="fatigued is true",
        evidence={},
        severity=severity,
        note="",
        key=key_of(kind, teachings),
        summary=f"{a} and {b}",
        expected=expected,
    )


_POOL = [
    (RULE_OVERLAP, Ref("rule", a), Ref("rule", b)) for a in range(1, 5) for b in range(a + 1, 5)
] + [(RULE_EXAMPLE, Ref("example", e), Ref("rule", r)) for e in range(1, 6) for r in range(1, 5)]


@st.composite
def _states(draw: st.DrawFn) -> list[tuple[dict, set, frozenset]]:
    """Checks one edit apart: contradictions come, go, are renewed (a new object, maybe
    another severity), open and close; a teaching is proposed or endorsed."""
    found: dict[str, Contradiction] = {}
    states = []
    for _ in range(draw(st.integers(1, 8))):
        found = dict(found)  # the index hands a new dict each check
        for kind, a, b in draw(st.lists(st.sampled_from(_POOL), max_size=8)):
            severity = draw(st.sampled_from([0.1, 0.3, 0.3, 0.6, 0.95]))
            item = _found(kind, a, b, severity, draw(st.booleans()) and kind == RULE_EXAMPLE)
            found[item.key] = item
        for key in draw(st.lists(st.sampled_from(sorted(found) or ["-"]), max_size=4)):
            found.pop(key, None)
        open_keys = {key for key in found if draw(st.integers(0, 4))}
        held = frozenset(draw(st.lists(st.sampled_from([Ref("rule", 2), Ref("example", 3)]))))
        states.append((found, open_keys, held))
    return states


@given(_states())
@settings(max_examples=200, deadline=None)
def test_kept_leaders_equal_leaders_from_scratch(states) -> None:
    kept = ThreadMemory()
    for found, open_keys, held in states:
        plan = threads_plan(found=found, open_keys=open_keys, threaded={}, held=held, memory=kept)
        disputes = [
            kept.dispute(found[key])
            for key in open_keys
            if not found[key].expected and not held.intersection(found[key].teachings)
        ]
        wanted = _representatives([d for d in disputes if d.severity >= THREAD_MIN_SEVERITY])
        assert plan.followers == wanted
        assert kept.leaders == {key: found[key] for key in wanted}
        fresh = threads_plan(found=found, open_keys=open_keys, threaded={}, held=held)
        assert plan.groups == fresh.groups


@given(_states(), st.randoms())
@settings(max_examples=200, deadline=None)
def test_leaders_told_which_keys_opened_or_closed_equal_leaders_from_scratch(states, rng) -> None:
    """As the store's plan does: one set of open keys changed in place from plan to plan,
    and the keys whose open state may have moved named (with some that did not)."""
    kept, open_keys = ThreadMemory(), set()
    for found, wanted_open, held in states:
        moved = (open_keys ^ wanted_open) | set(rng.sample(sorted(found), min(2, len(found))))
        open_keys.intersection_update(wanted_open)
        open_keys.update(wanted_open)
        plan = threads_plan(
            found=found,
            open_keys=open_keys,
            threaded={},
            held=held,
            memory=kept,
            open_moved=moved,
        )
        fresh = threads_plan(found=found, open_keys=set(open_keys), threaded={}, held=held)
        assert plan.followers == fresh.followers
        assert plan.groups == fresh.groups
