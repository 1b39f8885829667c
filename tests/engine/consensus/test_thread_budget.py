"""The thread budget: groups that have a thread keep it; new ones get one, the most severe
first, while the space has room; never more than that (plain Python, no Django)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from mola.engine.consensus import group_into_threads, threads_within_budget
from tests.engine.consensus.test_consensus_threads import clash


@dataclass(frozen=True)
class Group:
    name: str
    thread_id: int | None
    severity: float


def test_kept_threads_stay_and_the_most_severe_new_ones_fill_the_room() -> None:
    groups = [
        Group("mild kept", 7, 0.25),
        Group("new a", None, 0.4),
        Group("new b", None, 0.99),
        Group("new c", None, 0.6),
    ]
    chosen = threads_within_budget(groups, open_elsewhere=1, max_open=4)
    assert [g.name for g in chosen] == ["new b", "new c", "mild kept"]
    assert threads_within_budget(groups, open_elsewhere=5, max_open=4) == [groups[0]]


@given(
    st.lists(
        st.tuples(st.booleans(), st.floats(min_value=0, max_value=1, allow_nan=False)),
        max_size=60,
    ),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=40),
)
def test_the_budget_is_bounded_and_goes_to_the_most_severe(raw, open_elsewhere, max_open):
    groups = [
        Group(f"g{i}", i if kept else None, severity) for i, (kept, severity) in enumerate(raw)
    ]
    chosen = threads_within_budget(groups, open_elsewhere=open_elsewhere, max_open=max_open)
    kept = [g for g in groups if g.thread_id is not None]
    fresh = [g for g in chosen if g.thread_id is None]
    assert all(g in chosen for g in kept)
    assert len(fresh) == min(max(0, max_open - open_elsewhere - len(kept)), len(groups) - len(kept))
    waiting = [g for g in groups if g.thread_id is None and g not in fresh]
    if fresh and waiting:
        assert min(g.severity for g in fresh) >= max(g.severity for g in waiting)
    assert [g.severity for g in chosen] == sorted((g.severity for g in chosen), reverse=True)


def test_a_group_carries_the_severity_of_its_most_severe_contradiction() -> None:
    threads = group_into_threads([clash(1, 2, 0.3), clash(2, 3, 0.7), clash(8, 9, 0.5)])
    assert [t.severity for t in threads] == [0.7, 0.5]
