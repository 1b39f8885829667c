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
            wall and CPU (timed in the bench's own process: the worker's timings cannot
            show it)

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
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    BenchEnv,
    load,
    median,
    percentile,
    wait_for_revision,
)
from bench._seeding import seed_space
from bench.sizes import SIZES

REFINED_TIMEOUT = 300

STAGES = ("write", "queue", "snapshot", "fit", "serialise", "evaluate", "publish", "notice")
# A refine's stages (teaching.services.training.refine): from the quick version's publish to
# the refine task (REFINE_DELAY, the broker), reading which revision to refine, the
# snapshot, the full fit, pickling, taking the claim, the version_publishing listeners
# (evaluation), the publishing transaction, and published → served by GET /model.
REFINED_STAGES = (
    "wait",
    "check",
    "snapshot",
    "fit",
    "serialise",
    "claim",
    "evaluate",
    "publish",
    "notice",
)
TARGETS = {"M": 1.0, "L": 5.0}


def _write(client, seeded, world_rows, rules: list[dict], i: int, rng: random.Random):
    """One teaching write, chosen by turn; returns (status, body)."""
    slug = seeded.slug
    kind = i % 3
    if kind == 0:  # a new rule: another teacher's paraphrase of an existing one
        base = rng.choice(rules)
        return client.call(
            "POST",
            f"/api/v1/spaces/{slug}/rules",
            {"condition": base["condition"], "label": base["label"], "rationale": "bench"},
        )
    if kind == 1:  # a new example
        row = world_rows[i % len(world_rows)]
        label = seeded.world.true_labels([row])[0]
        return client.call(
            "POST", f"/api/v1/spaces/{slug}/examples", {"features": row, "label": label}
        )
    rule = rng.choice(rules)  # an edit: the same rule with another label
    labels = [lab for lab in rule["labels"] if lab != rule["label"]]
    return client.call(
        "PATCH", f"/api/v1/spaces/{slug}/rules/{rule['id']}", {"label": rng.choice(labels)}
    )


def bench_size(env: BenchEnv, size: str, writes: int, seed: int, refined_writes: int) -> dict:
    import numpy as np

    from teaching.models import ModelVersion, Rule, Space

    seeded = seed_space(size, seed=seed)
    space = Space.objects.get(pk=seeded.space_id)
    labels = list(space.schema.label_names)
    rules = [
        {"id": pk, "condition": c, "label": lab, "labels": labels}
        for pk, c, lab in Rule.objects.filter(space=space).values_list("id", "condition", "label")
    ]
    rows = seeded.world.sample_rows(max(writes, 1), np.random.default_rng(seed + 7))
    client = env.client(f"Token {seeded.token}")
    poller = env.client(f"Token {seeded.token}")
    rng = random.Random(seed)
    n_rules, n_concepts, n_examples = SIZES[size]
    print(
        f"{size}: {n_rules} rules, {n_concepts} concepts, {n_examples} examples "
        f"seeded in {seeded.seconds:.1f} s",
        flush=True,
    )
    # Warm up: the first training of the seeded space, and the caches of both processes.
    started = time.perf_counter()
    for i in range(2):
        status, body = _write(client, seeded, rows, rules, i, rng)
        assert status in (200, 201), (status, body)
        wait_for_revision(poller, seeded.slug, body["teaching_revision"])
    wait_for_refined(poller, seeded.slug, body["teaching_revision"])
    print(
        f"  warm-up (first trainings, then the first refined version)"
        f" {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    # A space that serves clients: the web process holds its model, so each new version is
    # loaded and warmed up by its watcher before GET /model reports it (warm serving).
    status, body = env.client(f"Api-Key {seeded.api_key}").call(
        "POST", f"/api/v1/spaces/{seeded.slug}/predict", {"instances": rows[:1]}
    )
    assert status == 200, (status, body)
    waits, stages, reused = [], {name: [] for name in STAGES}, 0
    cpus = {name: [] for name in STAGES}
    for i in range(writes):
        wall0 = datetime.now(UTC)
        t0 = time.perf_counter()
        status, body = _write(client, seeded, rows, rules, i, rng)
        t_write = time.perf_counter() - t0
        assert status in (200, 201), (status, body)
        revision = body["teaching_revision"]
        wait_for_revision(poller, seeded.slug, revision)
        total = time.perf_counter() - t0
        waits.append(total)
        version = (
            ModelVersion.objects.filter(space_id=seeded.space_id, teaching_revision__gte=revision)
            .order_by("teaching_revision", "version")
            .first()
        )
        timings = version.timings or {}
        reused += (version.metrics.get("trees") or {}).get("fitted_at_revision") is not None
        stages["write"].append(t_write)
        for name in STAGES[1:-1]:
            stages[name].append(float(timings.get(name, 0.0)))
            cpus[name].append(float((timings.get("cpu") or {}).get(name, 0.0)))
        published = (version.trained_at - wall0).total_seconds()
        stages["notice"].append(max(0.0, total - published))
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
    gets = []
    for _ in range(10):
        started = time.perf_counter()
        poller.call("GET", f"/api/v1/spaces/{seeded.slug}/model")
        gets.append(time.perf_counter() - started)
    print(
        f"  one GET /model (what each poll costs): median {median(gets) * 1000:.0f} ms", flush=True
    )
    # The web side of "notice", which the worker's timings cannot show: a quick version's
    # warm-up (wall and CPU, in this process).
    print(f"  quick version: {_warm_up(space, version)}", flush=True)
    paced, refined, quick_published = [], [], []
    refined_stages = {name: [] for name in REFINED_STAGES}
    refined_cpus = {name: [] for name in REFINED_STAGES}
    for i in range(writes, writes + refined_writes):
        wall0 = datetime.now(UTC)
        t0 = time.perf_counter()
        status, body = _write(client, seeded, rows, rules, i, rng)
        assert status in (200, 201), (status, body)
        revision = body["teaching_revision"]
        wait_for_revision(poller, seeded.slug, revision)
        paced.append(time.perf_counter() - t0)
        wait_for_refined(poller, seeded.slug, revision)
        refined.append(time.perf_counter() - t0)
        served_at = datetime.now(UTC)
        versions = ModelVersion.objects.filter(
            space_id=seeded.space_id, teaching_revision=revision, status="ready"
        ).order_by("version")
        quick, fresh = versions.first(), versions.last()
        quick_published.append((quick.trained_at - wall0).total_seconds())
        timings = fresh.timings or {}
        for name in REFINED_STAGES[:-1]:
            refined_stages[name].append(float(timings.get(name, 0.0)))
            refined_cpus[name].append(float((timings.get("cpu") or {}).get(name, 0.0)))
        refined_stages["notice"].append((served_at - fresh.trained_at).total_seconds())
    # Writes that land while a refine is fitting: REFINE_DELAY after a quick version is
    # served its refine starts; a second later (M: within its forest) the next write.
    from teaching.services.training import REFINE_DELAY

    during = []
    for i in range(writes + refined_writes, writes + 2 * refined_writes):
        time.sleep(REFINE_DELAY + 1.0)
        t0 = time.perf_counter()
        status, body = _write(client, seeded, rows, rules, i, rng)
        assert status in (200, 201), (status, body)
        wait_for_revision(poller, seeded.slug, body["teaching_revision"])
        during.append(time.perf_counter() - t0)
    if refined_writes:
        print(
            f"  refined: quick published {median(quick_published) * 1000:.0f} ms after the"
            " write, then (median ms)\n    wall  "
            + "  ".join(f"{n} {median(v) * 1000:.0f}" for n, v in refined_stages.items())
            + "\n    CPU   "
            + "  ".join(
                f"{n} {median(v) * 1000:.0f}" for n, v in refined_cpus.items() if n != "notice"
            )
            + f"   (the worker's)\n    {_warm_up(space, fresh)}",
            flush=True,
        )
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
    client.close()
    poller.close()
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
    }


def _warm_up(space, version) -> str:
    """What a web process's warm-up of ``version`` costs (``serving.warm``: read the
    artefact, unpickle it, one explained prediction), timed here, in this process."""
    from teaching.services import serving

    wall, cpu = [], []
    for _ in range(3):
        serving.forget()
        # This thread's CPU: the process's would count its serving watcher, which loads
        # the versions the writes publish meanwhile.
        w, c = time.perf_counter(), time.thread_time()
        serving.warm(space, version)
        wall.append(time.perf_counter() - w)
        cpu.append(time.thread_time() - c)
    serving.forget()
    return (
        f"warm-up of a version (serving.warm, timed in the bench's process):"
        f" wall {median(wall) * 1000:.0f} ms, CPU {median(cpu) * 1000:.0f} ms"
    )


def print_comparison(before: dict, now: dict) -> None:
    """The figures of an earlier run (``--compare``) beside this run's."""
    print(f"  before -> now ({now['size']}; load then {before['load']}, now {now['load']})")
    for key, value in now.items():
        if key in ("size", "load") or value is None or before.get(key) is None:
            continue
        print(f"    {key:18s} {before[key]:7.3f} s -> {value:7.3f} s", flush=True)


def wait_for_refined(client, slug: str, revision: int) -> None:
    """Poll ``GET /model`` until it serves ``revision`` with freshly fitted trees."""
    deadline = time.perf_counter() + REFINED_TIMEOUT
    while True:
        status, body = client.call("GET", f"/api/v1/spaces/{slug}/model")
        trees = (body.get("metrics") or {}).get("trees") or {"fresh": True}
        if status == 200 and body.get("teaching_revision") == revision and trees["fresh"]:
            return
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no refined version of revision {revision}: {body.get('version')}")
        time.sleep(0.05)


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
