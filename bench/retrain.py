"""Benchmark of the time a teacher waits: a teaching write over HTTP → GET /model serves it.

    .venv/bin/python bench/retrain.py [--sizes S,M,L] [--writes 20] [--seed 0]
        [--save figures.json] [--compare before.json]

Starts a real web server (gunicorn on 127.0.0.1, a free port) and a real Celery worker
against a throwaway data dir (SQLite and kombu's filesystem broker unless DATABASE_URL /
CELERY_BROKER_URL / REDIS_URL say otherwise), seeds a space per size directly in the database
(S: 50 rules, 500 examples; M: 500 rules, 150 concepts, 10,000 examples; L: 2,000 rules,
100,000 examples; 20 features, 8 labels), trains it once, then makes ``--writes`` teaching
writes through the API one after another — a new rule, a new example, an edited rule in
turn — each time polling ``GET /api/v1/spaces/{slug}/model`` until it reports the write's
revision. What is served first is the quick version (the space's last boosted trees reused,
teaching.services.training); a refined version of the same revision (trees fitted afresh)
follows. The space serves a client (one prediction after seeding), so the web process
holds its model and its watcher loads and warms each new version before ``GET /model``
reports it, as in a deployment. Prints p50/p95 of the teacher's wait and the medians of
where it goes (wall, then the worker's CPU per stage, from ``ModelVersion.timings``):

  write     the POST itself (the write transaction, scheduling the retrain on commit)
  queue     scheduled → the worker starts training (broker delivery, task start)
  snapshot  reading the space's teachings into an engine snapshot
  fit       the learner (metrics included)
  serialise pickling the model
  evaluate  the version_publishing listeners (evaluation's scorecard and report)
  publish   the rest of the publishing transaction
  notice    published → the polling client sees it (watcher, warm-up, poll, GET /model);
            the web process's warm-up of the last quick version is printed after them, in
            wall and CPU, alone and holding the version before it (timed in the bench's own
            process: the worker's timings cannot show it)

Then ``--refined`` more writes (10 by default), each waiting also for its refined version
before the next: the time from the write until the refined version is served, p50/p95,
the refine's stages (wall and CPU: ``wait`` from the quick version's publish to the refine
task — REFINE_DELAY and the broker —, ``check``, ``snapshot``, ``fit``, ``serialise``,
``claim``, ``evaluate``, ``publish``, ``notice``), what a web process's warm-up of a version
costs (timed in the bench's own process), and the teacher's wait again. (In the first pass
the next write comes as soon as the quick version is served, so most refines give way to
it, as while a teacher keeps typing.) And
as many writes each 2.5 s after the last was served, landing while its refine is fitting:
the teacher's wait when a refine must give way (and shares the two cores meanwhile).

Targets (issue 4, on the 2-core machine): M p95 ≤ 1.0 s, L p95 ≤ 5 s (the teacher's wait);
the refined version served ≤ 2 s p50 after a write at M (issue 18).

``--save`` writes each size's figures to a JSON file; ``--compare`` reads such a file (a run
of an earlier commit: copy this script into its checkout) and prints its figures beside
this run's.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    BenchEnv,
    load,
    median,
    percentile,
)
from bench._retrain_writes import (
    paced_writes,
    quick_writes,
    seeded_run,
    warm,
    writes_into_refine,
)

TARGETS = {"M": 1.0, "L": 5.0}


def bench_size(env: BenchEnv, size: str, writes: int, seed: int, refined_writes: int) -> dict:
    """The quick writes, the paced writes each refined before the next, and the writes into
    a refine, at ``size``; prints their figures and returns them."""
    run = seeded_run(env, size, writes, seed)
    warm(env, run)
    waits, stages, cpus, reused, version, each = quick_writes(run, writes)
    p50, p95 = _print_quick(size, waits, stages, cpus, reused)
    for slow in sorted(each, key=lambda write: write["wait"])[-2:]:
        print("  a slowest write (ms) " + "  ".join(f"{k} {v:.0f}" for k, v in slow.items()))
    gets = []
    for _ in range(10):
        started = time.perf_counter()
        run.poller.call("GET", f"/api/v1/spaces/{run.seeded.slug}/model")
        gets.append(time.perf_counter() - started)
    print(
        f"  one GET /model (what each poll costs): median {median(gets) * 1000:.0f} ms", flush=True
    )
    # The web side of "notice", which the worker's timings cannot show: a quick version's
    # warm-up (wall and CPU, in this process).
    print(f"  quick version: {_warm_up(run.space, version)}", flush=True)
    paced, refined, quick_published, refined_stages, refined_cpus, fresh = paced_writes(
        run, writes, refined_writes
    )
    during = writes_into_refine(run, writes + refined_writes, refined_writes)
    if refined_writes:
        print(f"  refined: {_refined_stages(quick_published, refined_stages, refined_cpus)}")
        print(f"    {_warm_up(run.space, fresh)}", flush=True)
        _print_refined_waits(refined_writes, paced, refined, during)
    run.client.close()
    run.poller.close()
    return {
        "size": size,
        "load": load(),
        "quick p50": p50,
        "quick p95": p95,
        "refined p50": median(refined) if refined else None,
        "refined p95": percentile(refined, 95) if refined else None,
        "into refine p50": median(during) if during else None,
        "into refine p95": percentile(during, 95) if during else None,
        **{f"{name} median": median(values) for name, values in stages.items()},
        **{f"refined {name} median": median(v) for name, v in refined_stages.items() if v},
        **{f"refined {name} CPU": median(v) for name, v in refined_cpus.items() if v},
        "quick writes": each,  # each write's wait and stages, ms
    }


def _print_quick(size: str, waits, stages, cpus, reused: int) -> tuple[float, float]:
    """The teacher's wait and its stages; (p50, p95) of the wait."""
    writes = len(waits)
    env_name = "postgres" if "postgres" in str(_db_engine()) else "sqlite"
    p50, p95 = median(waits), percentile(waits, 95)
    target = TARGETS.get(size)
    verdict = "" if target is None else (" ok" if p95 <= target else f" MISSES {target} s")
    print(
        f"  wait over {writes} writes: p50 {p50:.3f} s  p95 {p95:.3f} s  max {max(waits):.3f} s"
        f"{verdict}   [{env_name}, load {load()}; {reused} of {writes} served with reused trees]"
    )
    print(
        "  median stages  "
        + "  ".join(f"{name} {median(values) * 1000:.0f}" for name, values in stages.items())
        + " ms"
    )
    print(
        "  p95 stages     "
        + "  ".join(
            f"{name} {percentile(values, 95) * 1000:.0f}" for name, values in stages.items()
        )
        + " ms",
        flush=True,
    )
    print(
        "  median CPU     "
        + "  ".join(
            f"{name} {median(values) * 1000:.0f}" for name, values in cpus.items() if values
        )
        + " ms (the worker's, per stage)",
        flush=True,
    )
    return p50, p95


def _refined_stages(quick_published, refined_stages, refined_cpus) -> str:
    return (
        f"quick published {median(quick_published) * 1000:.0f} ms after the"
        " write, then (median ms)\n    wall  "
        + "  ".join(f"{n} {median(v) * 1000:.0f}" for n, v in refined_stages.items())
        + "\n    CPU   "
        + "  ".join(f"{n} {median(v) * 1000:.0f}" for n, v in refined_cpus.items() if n != "notice")
        + "   (the worker's)"
    )


def _print_refined_waits(refined_writes: int, paced, refined, during) -> None:
    from teaching.services.training import REFINE_DELAY

    print(
        f"  {refined_writes} writes {REFINE_DELAY + 1.0:.1f} s after the last was served"
        f" (into its refine): wait p50 {median(during):.3f} s  p95 {percentile(during, 95):.3f} s"
        f"  max {max(during):.3f} s   [load {load()}]",
        flush=True,
    )
    print(
        f"  paced {refined_writes} writes (each refined before the next):"
        f" wait p50 {median(paced):.3f} s  p95 {percentile(paced, 95):.3f} s;"
        f" refined served p50 {median(refined):.3f} s  p95 {percentile(refined, 95):.3f} s"
        f"   [load {load()}]",
        flush=True,
    )


def _warm_up(space, version) -> str:
    """What a web process's warm-up of ``version`` costs (``serving.warm``: read the
    artefact, unpickle it, one explained prediction), timed here, in this process: alone,
    and in a process that holds the version before it, as a serving web process does (it
    takes the parts they share from memory: teaching.services.artefacts)."""
    from teaching.models import ModelStatus, ModelVersion
    from teaching.services import serving

    before = (
        ModelVersion.objects.filter(
            space=space, status=ModelStatus.READY, version__lt=version.version
        )
        .order_by("-version")
        .first()
    )
    figures = []
    for holding in (None, before):
        wall, cpu = [], []
        for _ in range(3):
            serving.forget()
            gc.collect()  # nothing of the models held before is left to share
            if holding is not None:
                serving.warm(space, holding)
            # This thread's CPU: the process's would count its serving watcher, which loads
            # the versions the writes publish meanwhile.
            w, c = time.perf_counter(), time.thread_time()
            serving.warm(space, version)
            wall.append(time.perf_counter() - w)
            cpu.append(time.thread_time() - c)
        figures.append(f"wall {median(wall) * 1000:.0f} ms, CPU {median(cpu) * 1000:.0f} ms")
        serving.forget()
    return (
        f"warm-up of a version (serving.warm, timed in the bench's process): alone"
        f" {figures[0]}; holding the version before it {figures[1]}"
    )


def print_comparison(before: dict, now: dict) -> None:
    """The figures of an earlier run (``--compare``) beside this run's."""
    print(f"  before -> now ({now['size']}; load then {before['load']}, now {now['load']})")
    for key, value in now.items():
        if not isinstance(value, float) or not isinstance(before.get(key), float):
            continue
        print(f"    {key:18s} {before[key]:7.3f} s -> {value:7.3f} s", flush=True)


def _db_engine() -> str:
    from django.db import connection

    return connection.vendor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--refined", type=int, default=10, help="paced writes timed to their refined version"
    )
    parser.add_argument(
        "--consensus",
        action="store_true",
        help="also run each write's consensus check in the worker, as a deployment does "
        "(by default they are queued where no worker reads, to time retraining alone)",
    )
    parser.add_argument("--save", help="write each size's figures to this JSON file")
    parser.add_argument("--compare", help="a --save file of an earlier run: print it beside")
    args = parser.parse_args()
    before = {}
    if args.compare:
        before = {row["size"]: row for row in json.loads(Path(args.compare).read_text())}
    print(f"load before start: {load()}, consensus {'on' if args.consensus else 'off'}", flush=True)
    env = BenchEnv.start(web_workers=1, consensus=args.consensus)
    figures = []
    try:
        for size in args.sizes.split(","):
            figures.append(
                bench_size(env, size.strip().upper(), args.writes, args.seed, args.refined)
            )
            if figures[-1]["size"] in before:
                print_comparison(before[figures[-1]["size"]], figures[-1])
    except BaseException:
        env.stop(failed=True)
        raise
    env.stop()
    if args.save:
        Path(args.save).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
