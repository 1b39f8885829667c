"""The sizing figures of ``bench/scale.py``, measured in this process at each size: the
database bytes a seeded space adds, a model version's stored artifact (quick and refined)
and its memory once a web process has loaded it and answered with it, and a space's
consensus index in a worker's memory (resident memory before and after building it)."""

from __future__ import annotations

import gc
import time
import tracemalloc
from pathlib import Path

from bench._seeding import seed_space

MB = 1024 * 1024


def _db_bytes() -> int:
    """Bytes the database uses: SQLite's pages in use (free pages left by deleted rows are
    reused before the file grows), PostgreSQL's database size."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            used = []
            for pragma in ("page_count", "freelist_count", "page_size"):
                cursor.execute(f"PRAGMA {pragma}")
                used.append(cursor.fetchone()[0])
            return (used[0] - used[1]) * used[2]
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _train(space_id: int) -> None:
    """A quick version and its refine, in this process (tasks run eagerly here)."""
    from mola.celery import app
    from teaching.models import Space
    from teaching.services.training import refine_run, retrain_run, retrain_want

    app.conf.task_always_eager = True
    revision = Space.objects.get(pk=space_id).teaching_revision
    retrain_want(space_id=space_id, revision=revision)
    retrain_run(space_id=space_id)
    refine_run(space_id=space_id)  # a duplicate of the eager one does nothing


def _loaded_bytes(space, row: dict) -> int:
    """Memory a web process holds for the serving version once it answered one prediction."""
    from teaching.services import predict, serving

    serving.forget()
    gc.collect()
    tracemalloc.start()
    try:
        predict.predict(space=space, instances=[row])
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return held


def _index_bytes(space_id: int) -> tuple[int, float, int]:
    """RSS a space's consensus index adds (built from scratch), its build CPU seconds and
    how many contradictions it holds."""
    from consensus.loading import fresh_index

    gc.collect()
    before, cpu = _rss(), time.process_time()
    _, index = fresh_index(space_id)
    held = _rss() - before
    cpu = time.process_time() - cpu
    found = len(index.found)
    del index
    gc.collect()
    return held, cpu, found


def _stored(version_id: int) -> int:
    """Bytes of a version's model: its artefact and the parts it names (those a later quick
    version names again are stored once: teaching.services.artefacts)."""
    from django.db.models import Sum
    from django.db.models.functions import Length

    from teaching.models import ModelArtifact, ModelPart

    artifact = ModelArtifact.objects.filter(version_id=version_id).annotate(n=Length("data"))
    parts = ModelPart.objects.filter(links__artifact_id=version_id)
    return artifact.values_list("n", flat=True).get() + (
        parts.aggregate(n=Sum(Length("data")))["n"] or 0
    )


def sizing(size: str) -> dict:
    from teaching.models import ModelStatus, ModelVersion, Space

    before = _db_bytes()
    seeded = seed_space(size, seed=7)
    space_bytes = _db_bytes() - before
    _train(seeded.space_id)
    versions = ModelVersion.objects.filter(space_id=seeded.space_id, status=ModelStatus.READY)
    artifacts = {"quick" if v.requested_at else "refined": _stored(v.pk) for v in versions}
    import numpy as np

    row = seeded.world.sample_rows(1, np.random.default_rng(0))[0]
    loaded = _loaded_bytes(Space.objects.get(pk=seeded.space_id), row)
    index, index_cpu, found = _index_bytes(seeded.space_id)
    return {
        "space": space_bytes,
        "artifacts": artifacts,
        "loaded": loaded,
        "index": index,
        "index_cpu": index_cpu,
        "found": found,
    }


def print_sizing(sizes: list[str]) -> None:
    from bench.sizes import SIZES

    print(
        "\nsize (rules, concepts, examples) | space in DB | version artifact quick / refined"
        " | version loaded in a web process | consensus index in a worker (contradictions,"
        " build CPU)"
    )
    for size in sizes:
        figures = sizing(size)
        quick = figures["artifacts"].get("quick", 0) / MB
        refined = figures["artifacts"].get("refined", 0) / MB
        print(
            f"{size} {SIZES[size]} | {figures['space'] / MB:.1f} MB | {quick:.2f} / {refined:.2f}"
            f" MB | {figures['loaded'] / MB:.1f} MB | {figures['index'] / MB:.0f} MB"
            f" ({figures['found']}, {figures['index_cpu']:.1f} s)",
            flush=True,
        )
