"""Case pool benchmark: import 100,000 cases, then the coverage table of 500 rules on them.

    .venv/bin/python bench/pool.py [--cases 100000] [--repeat 5]

In-process (Django's test client, no server), on a fresh data dir with SQLite unless
DATABASE_URL says otherwise. The space is the synthetic M world (500 rules, 150 concepts,
20 features); the cases are drawn from the same world. Prints:

- import: wall and CPU seconds of ``POST /cases`` with a 100,000-case JSON body (parse,
  validation row by row, one transaction), and the process's peak memory growth;
- coverage, ``GET /coverage``: *cold* (a process that has never seen the pool: reads and
  types every case and evaluates every rule), *after a rule edit* (one condition evaluated
  again over the pool, the table summed again) and *repeat* (the shared cache answers);
  CPU medians over ``--repeat`` runs;
- the practice queue, ``GET /practice``, once the model is trained: ranking afresh (as after
  every new model version) and a repeat (the shared cache answers);
- the quick retrain with the pool (target at M: p95 <= 1.0 s): after a full fit (the
  refine, whose trees the quick retrains reuse), ``--retrains`` times a new example through
  the API, then ``train_space`` (snapshot with the pool's sample, fit, publish) timed alone:
  wall and CPU p50 / p95, the fit stage's own wall and CPU time, and how many pool cases the fit
  read (a sample: ``mola.engine.learning.pool``).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup() -> None:
    os.environ.setdefault("MOLA_DATA_DIR", tempfile.mkdtemp(prefix="mola-bench-pool-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mola.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("CASE_POOL_MAX", "1000000")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _timed(call):
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--retrains", type=int, default=20, help="quick retrains timed")
    args = parser.parse_args()
    _setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from bench._harness import load
    from bench._seeding import seed_space

    setup_test_environment()
    seeded = seed_space("M")
    client = Client(HTTP_AUTHORIZATION=f"Token {seeded.token}")
    url = f"/api/v1/spaces/{seeded.slug}"
    print(f"pool benchmark: M world (500 rules), {args.cases:,} cases, load {load()}")
    _import_cases(client, url, seeded, args.cases)
    _coverage(client, url, seeded, args.repeat)
    _practice(client, url, seeded, args.repeat)
    retrain_with_pool(client, url, seeded, args.retrains)


def _import_cases(client, url: str, seeded, n_cases: int) -> None:
    """Import ``n_cases`` cases of the world in one request: its wall, CPU and memory."""
    import numpy as np
    import orjson

    rows = seeded.world.sample_rows(n_cases, np.random.default_rng(7))
    body = orjson.dumps({"cases": rows})
    del rows
    before = _peak_mb()
    response, wall, cpu = _timed(
        lambda data=body: client.post(f"{url}/cases", data, content_type="application/json")
    )
    assert response.status_code == 201, response.content[:500]
    print(
        f"import {n_cases:,} cases ({len(body) / 2**20:.1f} MB JSON): "
        f"{wall:.2f} s wall, {cpu:.2f} s CPU, peak memory +{_peak_mb() - before:.0f} MB"
    )


def _coverage(client, url: str, seeded, repeat: int) -> None:
    """The rules' coverage of the pool: cold, after a rule edit, and repeated (CPU)."""
    from django.core.cache import cache

    from bench._harness import median
    from cases.selectors import clear_matrices
    from teaching.models import Rule, Space

    def coverage():
        response = client.get(f"{url}/coverage")
        assert response.status_code == 200, response.content[:500]
        return response.json()

    cold, edited, repeated = [], [], []
    rule = Rule.objects.filter(space_id=seeded.space_id).order_by("id").first()
    for n in range(repeat):
        clear_matrices()
        cache.clear()
        cold.append(_timed(coverage)[2])
        # An edit as the service makes it: a new condition and a new teaching revision (the
        # same meaning, a text never evaluated before).
        edit = f"({rule.condition}){' ' * (n + 1)}"
        Rule.objects.filter(pk=rule.pk).update(condition=edit)
        Space.objects.filter(pk=seeded.space_id).update(teaching_revision=100 + n)
        result, _, cpu = _timed(coverage)
        edited.append(cpu)
        repeated.append(_timed(coverage)[2])
    Rule.objects.filter(pk=rule.pk).update(condition=rule.condition)
    print(
        f"coverage of {len(result['rules'])} rules on {result['cases']:,} cases "
        f"(uncovered {result['uncovered']:.1%}, conflicting {result['conflicting']:.1%}); "
        f"CPU medians of {repeat}:"
    )
    print(f"  cold (new process: load the pool, evaluate every rule): {median(cold) * 1000:.0f} ms")
    print(f"  after a rule edit (target <= 300 ms): {median(edited) * 1000:.0f} ms")
    print(f"  repeat (shared cache): {median(repeated) * 1000:.1f} ms")


def _practice(client, url: str, seeded, repeat: int) -> None:
    """The practice queue on the pool, once the space is trained: ranked and repeated (CPU)."""
    from django.core.cache import cache

    from bench._harness import median
    from teaching.services.training import train_space

    train_space(space_id=seeded.space_id)

    def queue():
        response = client.get(f"{url}/practice")
        assert response.status_code == 200, response.content[:500]
        return response.json()

    ranked, repeated = [], []
    for _ in range(repeat):
        cache.clear()  # the ranking is cached per model and pool version: rank again
        items, _, cpu = _timed(queue)
        ranked.append(cpu)
        repeated.append(_timed(queue)[2])
    reasons = sorted({item["reason"] for item in items})
    print(
        f"practice queue on the pool (2,000 sampled candidates, 200 explained; reasons seen: "
        f"{', '.join(reasons)}): ranking {median(ranked) * 1000:.0f} ms, "
        f"repeat {median(repeated) * 1000:.0f} ms CPU"
    )


def retrain_with_pool(client, url: str, seeded, retrains: int) -> None:
    """The quick retrain of the M space with its pool (module docstring)."""
    import numpy as np

    from bench._harness import load, median, percentile
    from teaching.services.training import refine_run, train_space

    refine_run(space_id=seeded.space_id)  # the full fit whose trees the quick ones reuse
    rows = seeded.world.sample_rows(retrains, np.random.default_rng(11))
    labels = seeded.world.true_labels(rows)
    walls, cpus, fits, fit_cpus, read, reused = [], [], [], [], set(), 0
    for row, label in zip(rows, labels, strict=True):
        response = client.post(
            f"{url}/examples", {"features": row, "label": label}, content_type="application/json"
        )
        assert response.status_code == 201, response.content[:500]
        version, wall, cpu = _timed(lambda: train_space(space_id=seeded.space_id))
        assert version is not None
        walls.append(wall)
        cpus.append(cpu)
        timings = version.timings or {}
        fits.append(float(timings.get("fit", 0.0)))
        fit_cpus.append(float((timings.get("cpu") or {}).get("fit", 0.0)))
        read.add((version.metrics.get("pool") or {}).get("cases"))
        reused += (version.metrics.get("trees") or {}).get("fitted_at_revision") is not None
    print(
        f"quick retrain with the pool at M ({retrains} retrains, {reused} with reused trees; "
        f"pool cases the fit read: {sorted(read, key=str)}; target p95 <= 1.0 s): "
        f"wall p50 {median(walls):.3f} s p95 {percentile(walls, 95):.3f} s; "
        f"CPU p50 {median(cpus):.3f} s p95 {percentile(cpus, 95):.3f} s; "
        f"fit stage wall p50 {median(fits):.3f} s p95 {percentile(fits, 95):.3f} s, "
        f"CPU p50 {median(fit_cpus):.3f} s p95 {percentile(fit_cpus, 95):.3f} s [load {load()}]"
    )


if __name__ == "__main__":
    main()
