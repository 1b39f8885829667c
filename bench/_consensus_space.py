"""The consensus check of a space imported in bulk, through the app (``bench/consensus.py
--space M``): in-process, the database of ``DATABASE_URL`` (a throwaway SQLite otherwise).

The space is ``bench/_seeding.seed_space(size)``: every teaching bulk-created at once, rules
paraphrasing a hidden truth with wrong labels as often as their authors are novices, so many
rules disagree with many examples (at M the check stores ~112k contradictions, ~780k before
the per-rule bound) and most of them are open disputes to be packed into threads.

Prints the first check (cold: the index is built and every contradiction stored), then the
median of ``--edits`` warm checks after one example edit (a number moved, the label changed)
and after one rule edit (its label changed), each with CPU (``time.process_time``) and wall
time, the index and store shares (the check's own log line) and what was stored.
``--verify`` then recomputes from scratch and compares every stored field of every row;
``--save`` writes the medians to a JSON file, ``--compare`` prints such a file's beside.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import tempfile
import time
from pathlib import Path

from bench._harness import load, median
from bench._seeding import seed_space


def _setup() -> None:
    if "MOLA_DATA_DIR" not in os.environ:
        os.environ["MOLA_DATA_DIR"] = tempfile.mkdtemp(prefix="mola-bench-consensus-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mola.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class _Shares(logging.Handler):
    """The ``index`` and ``store`` seconds of the last check, from its log line."""

    pattern = re.compile(r"index ([\d.]+) s, store ([\d.]+) s")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.last = (0.0, 0.0)

    def emit(self, record: logging.LogRecord) -> None:
        match = self.pattern.search(record.getMessage())
        if match:
            self.last = (float(match[1]), float(match[2]))


def _bump(space_id: int) -> int:
    """The space's next teaching revision (what a teaching write does)."""
    from django.db.models import F

    from teaching.models import Space

    Space.objects.filter(pk=space_id).update(teaching_revision=F("teaching_revision") + 1)
    return Space.objects.values_list("teaching_revision", flat=True).get(pk=space_id)


def _pick(rows, rng: random.Random) -> int:
    """One row's id drawn by ``rng`` (the database's own random order is not seeded, and
    two runs of the bench made different edits)."""
    return rng.choice(list(rows.order_by("pk").values_list("pk", flat=True)))


def _edit_example(space, rng: random.Random) -> None:
    """One example's first number moved by a tenth of its range, and its label changed."""
    from teaching.models import Example

    example = Example.objects.get(pk=_pick(Example.objects.filter(space=space), rng))
    labels = [label["name"] for label in space.labels]
    number = next(f for f in space.features if f["kind"] == "number")
    span = number["max"] - number["min"]
    features = dict(example.features)
    value = features[number["name"]] + rng.uniform(-0.1, 0.1) * span
    features[number["name"]] = round(min(number["max"], max(number["min"], value)), 3)
    label = rng.choice([name for name in labels if name != example.label])
    revision = _bump(space.pk)
    Example.objects.filter(pk=example.pk).update(features=features, label=label, revision=revision)


def _edit_rule(space, rng: random.Random) -> None:
    """One rule's label changed."""
    from teaching.models import Rule

    rule = Rule.objects.get(pk=_pick(Rule.objects.filter(space=space), rng))
    labels = [label["name"] for label in space.labels]
    label = rng.choice([name for name in labels if name != rule.label])
    revision = _bump(space.pk)
    Rule.objects.filter(pk=rule.pk).update(label=label, revision=revision)


def _stored(space) -> str:
    """Stored and open contradictions, open threads, and a hash of the open ones' keys with
    their threads (equal for two runs that store the same)."""
    from community.models import Thread
    from consensus.models import Contradiction

    rows = Contradiction.objects.filter(space=space)
    # Members' names end in a tag of the run (bench/_seeding.py); titles quote them.
    opened = sorted(
        (key, title and re.sub(r"-[0-9a-f]{6}\b", "", title))
        for key, title in rows.filter(status="open").values_list("key", "thread__title")
    )
    threads = Thread.objects.filter(space=space, status="open").count()
    digest = hashlib.sha256(repr(opened).encode()).hexdigest()[:10]
    return f"{rows.count():,} stored, {len(opened):,} open, {threads} open threads ({digest})"


def _timed_check(space, revision: int, shares: _Shares) -> tuple[float, float, float, float]:
    from consensus.services import consensus_check

    wall, cpu = time.perf_counter(), time.process_time()
    consensus_check(space_id=space.pk, revision=revision)
    return (time.process_time() - cpu, time.perf_counter() - wall, *shares.last)


def _line(name: str, runs: list[tuple[float, float, float, float]]) -> str:
    cpu, wall, index, store = (median([run[i] for run in runs]) for i in range(4))
    return (
        f"  {name:34} CPU {cpu:7.2f} s  wall {wall:7.2f} s  "
        f"(index {index:.2f} s, store {store:.2f} s)"
    )


def _rows(space) -> list[tuple]:
    """Every stored field of every row a check writes (ids and timestamps aside), with the
    evidence and note each row shows (from its rules' stored counts), and those counts."""
    from consensus.evidence import rows_rendered
    from consensus.models import Contradiction, RuleEvidence

    fields = ("key", "kind", "teachings", "witness", "region", "evidence", "severity", "note")
    fields += ("summary", "expected", "status", "digest", "first", "second", "thread_id")
    fields += ("evidence_from",)
    rows = list(Contradiction.objects.filter(space=space).values(*fields))
    shown = rows_rendered(space=space, rows=rows)
    found = [(*row.values(), *text) for row, text in zip(rows, shown, strict=True)]
    counts = RuleEvidence.objects.filter(space=space).values_list("rule_id", "counts", "digest")
    return sorted([*found, *counts], key=repr)


def _verify(space) -> bool:
    """Recompute from scratch (a fresh index, every row compared) and say whether the
    incremental checks had stored exactly that."""
    from consensus.services import consensus_recompute

    before = _rows(space)
    cpu = time.process_time()
    consensus_recompute(space=space)
    after = _rows(space)
    differing = len({repr(row) for row in before} ^ {repr(row) for row in after})
    print(
        f"  recompute from scratch ({time.process_time() - cpu:.1f} s CPU): "
        + ("equal to the incremental checks" if not differing else f"{differing} rows DIFFER")
        + f" ({len(after):,} rows, every stored field)"
    )
    return not differing


def run(
    size: str,
    edits: int,
    seed: int,
    verify: bool = False,
    save: str | None = None,
    compare: str | None = None,
) -> bool:
    """The bench (module docstring); False when ``verify`` found a difference."""
    _setup()
    from django.db import connection

    from teaching.models import Space

    earlier = json.loads(Path(compare).read_text()) if compare else {}
    figures: dict[str, list[float]] = {}

    def line(name: str, runs: list[tuple[float, float, float, float]]) -> str:
        text = _line(name, runs)
        figures[name] = [median([run[i] for run in runs]) for i in range(2)]
        if name in earlier:
            text += (
                f"\n  {'':34} before: CPU {earlier[name][0]:7.2f} s  wall {earlier[name][1]:7.2f} s"
            )
        return text

    shares = _Shares()
    logging.getLogger("consensus.services").addHandler(shares)
    logging.getLogger("consensus.services").setLevel(logging.INFO)
    print(f"database: {connection.vendor}; load before: {load()}")
    seeded = seed_space(size, seed=0)
    space = Space.objects.get(pk=seeded.space_id)
    print(f"space {size} imported in bulk in {seeded.seconds:.1f} s")
    first = _timed_check(space, space.teaching_revision, shares)
    print(line("first check (cold)", [first]))
    print(f"    {_stored(space)}")
    rng = random.Random(seed)
    for name, edit in (
        ("after one example edit", _edit_example),
        ("after one rule edit", _edit_rule),
    ):
        runs = []
        for _ in range(edits):
            edit(space, rng)
            space.refresh_from_db()
            runs.append(_timed_check(space, space.teaching_revision, shares))
        print(line(name, runs) + f" (median of {edits}; target CPU <= 1 s)")
        print(f"    {_stored(space)}")
    print(f"load after: {load()}")
    if save:
        Path(save).write_text(json.dumps(figures, indent=1))
    return _verify(space) if verify else True
