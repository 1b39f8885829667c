"""Consensus: keep each space's contradictions current (the pure core is mola.engine.consensus)."""

from __future__ import annotations


def consensus_schedule(*, space_id: int, revision: int, refs: list[tuple[str, int]]) -> None:
    """Queue a consensus check of the changed teachings of a space."""
    from consensus.tasks import consensus_check_task

    consensus_check_task.delay(space_id, revision, [list(ref) for ref in refs])
