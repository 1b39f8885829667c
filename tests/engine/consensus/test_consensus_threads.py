"""Grouping contradictions into threads: components, splitting, bounded count, identity."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mola.engine.consensus import (
    RULE_OVERLAP,
    Contradiction,
    Ref,
    ThreadGroup,
    ThreadGrouping,
    contradiction_key,
    group_into_threads,
)


def clash(a: int, b: int, severity: float = 0.5) -> Contradiction:
    teachings = tuple(sorted((Ref("rule", a), Ref("rule", b))))
    return Contradiction(
        kind=RULE_OVERLAP,
        teachings=teachings,
        witness={},
        region_text="fatigued is true",
        evidence={},
        severity=severity,
        note="",
        key=contradiction_key(RULE_OVERLAP, teachings),
        summary=f"Rule #{a} (anna) says toss in front, rule #{b} (ben) says no cue, when "
        "fatigued is true",
    )


def ids_of(threads: list[ThreadGroup]) -> dict[str, int]:
    """What the Django side stores: each contradiction's thread (new threads numbered)."""
    numbered, fresh = {}, iter(range(1000, 2000))
    for thread in threads:
        thread_id = thread.thread_id if thread.thread_id is not None else next(fresh)
        numbered.update(dict.fromkeys(thread.contradiction_keys, thread_id))
    return numbered


def by_id(threads: list[ThreadGroup]) -> dict[int | None, tuple[str, ...]]:
    return {t.thread_id: t.contradiction_keys for t in threads}


def test_each_connected_component_is_one_thread() -> None:
    threads = group_into_threads([clash(1, 2, 0.3), clash(2, 3, 0.7), clash(8, 9)])
    assert [t.contradiction_keys for t in threads] == [
        ("rule_overlap:rule:1+rule:2", "rule_overlap:rule:2+rule:3"),
        ("rule_overlap:rule:8+rule:9",),
    ]
    assert threads[0].teachings == (Ref("rule", 1), Ref("rule", 2), Ref("rule", 3))
    assert threads[0].title == (
        "Rule #2 (anna) says toss in front, rule #3 (ben) says no cue, when fatigued is true "
        "(and 1 related disagreement)"
    )
    assert all(t.thread_id is None for t in threads)


def test_a_big_component_is_split_into_bounded_threads() -> None:
    # Two dense clusters of rules joined by one contradiction, plus a rule against many.
    found = [clash(a, b) for a in range(1, 6) for b in range(a + 1, 6)]
    found += [clash(a, b) for a in range(10, 15) for b in range(a + 1, 15)]
    found += [clash(5, 10)] + [clash(20, 100 + i) for i in range(11)] + [clash(20, 1)]
    threads = group_into_threads(found, max_size=8)
    keys = [key for t in threads for key in t.contradiction_keys]
    assert sorted(keys) == sorted(c.key for c in found)
    assert all(len(t.contradiction_keys) <= 8 for t in threads)
    assert len(threads) <= 2 * len(found) // 8 + 1


@st.composite
def random_graphs(draw: st.DrawFn) -> list[Contradiction]:
    pairs = draw(st.lists(st.tuples(st.integers(1, 25), st.integers(1, 25)), max_size=80))
    return list({c.key: c for c in (clash(a, b) for a, b in pairs if a != b)}.values())


@given(random_graphs(), st.integers(2, 10))
@settings(max_examples=80, deadline=None)
def test_the_thread_count_is_bounded(found: list[Contradiction], max_size: int) -> None:
    """Bound: a component with m <= max_size contradictions is one thread, a bigger one at
    most floor(2m / max_size) + 1 (first-fit packing leaves at most one thread half full)."""
    threads = group_into_threads(found, max_size=max_size)
    graph = nx.Graph([c.teachings for c in found])
    bound = 0
    for nodes in nx.connected_components(graph):
        m = graph.subgraph(nodes).number_of_edges()
        bound += 1 if m <= max_size else 2 * m // max_size + 1
    assert len(threads) <= bound
    assert sorted(k for t in threads for k in t.contradiction_keys) == sorted(c.key for c in found)
    assert all(1 <= len(t.contradiction_keys) <= max_size for t in threads)


def test_threads_keep_their_ids_when_unrelated_teachings_change() -> None:
    found = [clash(1, 2), clash(2, 3), clash(8, 9)]
    previous = ids_of(group_into_threads(found))
    threads = group_into_threads([*found, clash(40, 41)], previous)
    assert by_id(threads)[previous["rule_overlap:rule:1+rule:2"]] == (
        "rule_overlap:rule:1+rule:2",
        "rule_overlap:rule:2+rule:3",
    )
    assert by_id(threads)[previous["rule_overlap:rule:8+rule:9"]] == ("rule_overlap:rule:8+rule:9",)
    assert by_id(threads)[None] == ("rule_overlap:rule:40+rule:41",)


def test_a_new_contradiction_joins_the_thread_it_touches() -> None:
    previous = {"rule_overlap:rule:1+rule:2": 7}
    threads = group_into_threads([clash(1, 2), clash(2, 5)], previous)
    assert by_id(threads) == {7: ("rule_overlap:rule:1+rule:2", "rule_overlap:rule:2+rule:5")}


def test_joining_two_old_threads_keeps_the_bigger_one() -> None:
    previous = {
        "rule_overlap:rule:1+rule:2": 7,
        "rule_overlap:rule:2+rule:3": 7,
        "rule_overlap:rule:8+rule:9": 4,
    }
    threads = group_into_threads([clash(1, 2), clash(2, 3), clash(8, 9), clash(3, 8)], previous)
    assert list(by_id(threads)) == [7]


def test_a_thread_split_in_two_keeps_its_id_on_the_bigger_part() -> None:
    previous = dict.fromkeys(
        ["rule_overlap:rule:1+rule:2", "rule_overlap:rule:2+rule:3", "rule_overlap:rule:3+rule:4"],
        5,
    )
    # Rule 3 was retired with its contradiction 2-3: the rest falls apart.
    threads = group_into_threads([clash(1, 2), clash(3, 4), clash(4, 6)], previous)
    assert by_id(threads)[5] == ("rule_overlap:rule:3+rule:4", "rule_overlap:rule:4+rule:6")
    assert by_id(threads)[None] == ("rule_overlap:rule:1+rule:2",)


def test_split_threads_stay_put_when_a_big_component_grows() -> None:
    found = [clash(a, b) for a in range(1, 8) for b in range(a + 1, 8)]  # 21 contradictions
    first = group_into_threads(found, max_size=8)
    previous = ids_of(first)
    threads = group_into_threads([*found, clash(7, 30)], previous, max_size=8)
    before = {
        t.thread_id: t.contradiction_keys for t in group_into_threads(found, previous, max_size=8)
    }
    after = by_id(threads)
    grown = [i for i in before if before[i] != after.get(i)]
    assert len(grown) <= 1  # only the thread the new contradiction joined changed
    for thread_id in grown:
        assert set(after[thread_id]) == set(before[thread_id]) | {"rule_overlap:rule:7+rule:30"}


def test_a_big_component_is_cut_by_its_busiest_teaching() -> None:
    # Rule 1 disagrees with 17 others, which also disagree in pairs: rule 1's share is cut
    # in order into full threads, and the rest is packed.
    found = [clash(1, b) for b in range(2, 19)] + [clash(2, 3), clash(4, 5)]
    threads = group_into_threads(found, max_size=8)
    first = sorted(c.key for c in found if c.teachings[0] == Ref("rule", 1))
    assert [t.contradiction_keys for t in threads if len(t.contradiction_keys) == 8] == [
        tuple(first[:8]),
        tuple(first[8:16]),
    ]
    assert sorted(k for t in threads for k in t.contradiction_keys) == sorted(c.key for c in found)


@st.composite
def edit_sequences(draw: st.DrawFn) -> list[tuple[list[Contradiction], dict[str, int]]]:
    """States of a space's disputes one edit apart: contradictions come, go and change
    severity (a new object under the same key), and threads are given to groups."""
    pool = [clash(a, b) for a in range(1, 13) for b in range(a + 1, 13)]
    current = {c.key: c for c in draw(st.lists(st.sampled_from(pool), max_size=40))}
    previous: dict[str, int] = {}
    states = []
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["add", "remove", "swap", "renew", "thread", "unthread"]))
        if action in ("remove", "swap") and current:  # swap: some go, others come, at once
            for key in draw(st.lists(st.sampled_from(sorted(current)), max_size=6)):
                current.pop(key, None)
                previous.pop(key, None)
        if action in ("add", "swap"):
            for c in draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6)):
                current[c.key] = c
        elif action == "renew" and current:
            for key in draw(st.lists(st.sampled_from(sorted(current)), max_size=6)):
                a, b = (ref.id for ref in current[key].teachings)
                current[key] = clash(a, b, draw(st.sampled_from([0.2, 0.5, 0.9])))
        elif action == "thread" and current:
            keys = draw(st.lists(st.sampled_from(sorted(current)), max_size=8))
            previous.update(dict.fromkeys(keys, draw(st.integers(1, 4))))
        elif action == "unthread" and previous:
            for key in draw(st.lists(st.sampled_from(sorted(previous)), max_size=4)):
                previous.pop(key, None)
        states.append((list(current.values()), dict(previous)))
    return states


@given(edit_sequences(), st.integers(2, 6), st.sampled_from([0, 64]))
@settings(max_examples=300, deadline=None)
def test_incremental_grouping_equals_from_scratch(
    states: list[tuple[list[Contradiction], dict[str, int]]], max_size: int, in_place_from: int
) -> None:
    # in_place_from 0: every component a change neither splits nor merges is updated in
    # place and its split kept current (``Shares``), as the big one of a bulk import is.
    grouping = ThreadGrouping(max_size)
    grouping.in_place_from = in_place_from
    for found, previous in states:
        assert grouping.group(found, previous) == group_into_threads(
            found, previous, max_size=max_size
        )


@given(edit_sequences(), st.integers(2, 6), st.sampled_from([0, 64]), st.randoms())
@settings(max_examples=200, deadline=None)
def test_grouping_told_which_keys_changed_equals_from_scratch(
    states: list[tuple[list[Contradiction], dict[str, int]]],
    max_size: int,
    in_place_from: int,
    rng: Any,
) -> None:
    """``changed`` names the keys that differ from the last call (and some that do not)."""
    grouping = ThreadGrouping(max_size)
    grouping.in_place_from = in_place_from
    last: dict[str, Contradiction] = {}
    for found, previous in states:
        now = {c.key: c for c in found}
        changed = {k for k in now.keys() | last.keys() if now.get(k) is not last.get(k)}
        changed |= set(rng.sample(sorted(now), min(2, len(now))))
        assert grouping.group(now, previous, changed if last else None) == group_into_threads(
            found, previous, max_size=max_size
        )
        last = now


@pytest.mark.parametrize(
    ("gone", "came"),
    [
        ([(1, 2)], [(1, 9)]),  # rule 1 leaves the component, and links to a new rule apart
        ([(2, 3)], [(3, 9)]),  # rule 3 leaves it the same way, by a key not its first
        ([(2, 5)], [(5, 6)]),  # rule 5 stays, through rule 6
        ([(2, 4), (2, 5)], [(4, 5)]),  # rules 4 and 5 are linked to each other only: split
    ],
)
def test_a_component_updated_in_place_is_split_when_the_change_splits_it(
    gone: list[tuple[int, int]], came: list[tuple[int, int]]
) -> None:
    grouping = ThreadGrouping(2)
    grouping.in_place_from = 0
    found = {c.key: c for c in [clash(1, 2), *(clash(2, b) for b in range(3, 8))]}
    grouping.group(list(found.values()))
    for a, b in gone:
        del found[clash(a, b).key]
    found.update((c.key, c) for c in (clash(a, b) for a, b in came))
    assert grouping.group(list(found.values())) == group_into_threads(
        list(found.values()), max_size=2
    )


@given(edit_sequences(), st.integers(2, 6), st.sampled_from([0, 64]))
@settings(max_examples=200, deadline=None)
def test_each_component_knows_the_old_threads_of_its_keys(
    states: list[tuple[list[Contradiction], dict[str, int]]], max_size: int, in_place_from: int
) -> None:
    """A call compares only the keys whose old thread moved with what each component kept
    (not whole components): what it kept must stay what a fresh look at ``previous`` gives,
    and the components must stay those found from scratch."""
    grouping = ThreadGrouping(max_size)
    grouping.in_place_from = in_place_from
    for found, previous in states:
        assert grouping.group(found, previous) == group_into_threads(
            found, previous, max_size=max_size
        )
        kept = list(grouping._components.values())
        for component in kept:
            assert component.old == {k: previous[k] for k in component.keys if k in previous}
        fresh = ThreadGrouping(max_size)
        fresh.group(found, previous)
        assert sorted(c.keys for c in kept) == sorted(c.keys for c in fresh._components.values())
        assert sorted(c.groups for c in kept) == sorted(
            c.groups for c in fresh._components.values()
        )
