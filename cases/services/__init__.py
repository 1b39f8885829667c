"""Writes and computations on a space's case pool: imports, deletions, traffic sampling
(pool.py), rule coverage (coverage.py) and the practice queue (practice.py)."""
