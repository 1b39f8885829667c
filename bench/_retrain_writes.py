"""bench/retrain.py's writes: a seeded space under test (``Run``), the teaching writes made
on it in turn, and the three passes of writes that bench/retrain.py times — each served
before the next (``quick_writes``), each refined before the next (``paced_writes``), and
each landing in the last one's refine (``writes_into_refine``).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from bench._harness import BenchEnv, Http, wait_for_revision
from bench._seeding import Seeded, seed_space
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


@dataclass
class Run:
    """A seeded space under test: its rules and world rows to write from, the writer's and
    the poller's clients, and the turn's random choices."""

    seeded: Seeded
    space: object  # teaching.models.Space
    rules: list[dict]
    rows: list[dict]
    client: Http
    poller: Http
    rng: random.Random

    def write(self, i: int) -> int:
        """Teaching write ``i`` (``_write``); the revision it made."""
        status, body = _write(self.client, self.seeded, self.rows, self.rules, i, self.rng)
        assert status in (200, 201), (status, body)
        return body["teaching_revision"]


def seeded_run(env: BenchEnv, size: str, writes: int, seed: int) -> Run:
    """A space of ``size`` seeded, and what its writes are drawn from."""
    import numpy as np

    from teaching.models import Rule, Space

    seeded = seed_space(size, seed=seed)
    space = Space.objects.get(pk=seeded.space_id)
    labels = list(space.schema.label_names)
    rules = [
        {"id": pk, "condition": c, "label": lab, "labels": labels}
        for pk, c, lab in Rule.objects.filter(space=space).values_list("id", "condition", "label")
    ]
    rows = seeded.world.sample_rows(max(writes, 1), np.random.default_rng(seed + 7))
    n_rules, n_concepts, n_examples = SIZES[size]
    print(
        f"{size}: {n_rules} rules, {n_concepts} concepts, {n_examples} examples "
        f"seeded in {seeded.seconds:.1f} s",
        flush=True,
    )
    token = f"Token {seeded.token}"
    return Run(
        seeded, space, rules, rows, env.client(token), env.client(token), random.Random(seed)
    )


def warm(env: BenchEnv, run: Run) -> None:
    """The first trainings of the seeded space and the caches of both processes; then one
    prediction, so that the web process holds the space's model: each new version is loaded
    and warmed up by its watcher before GET /model reports it (warm serving)."""
    started = time.perf_counter()
    for i in range(2):
        revision = run.write(i)
        wait_for_revision(run.poller, run.seeded.slug, revision)
    wait_for_refined(run.poller, run.seeded.slug, revision)
    print(
        f"  warm-up (first trainings, then the first refined version)"
        f" {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    status, body = env.client(f"Api-Key {run.seeded.api_key}").call(
        "POST", f"/api/v1/spaces/{run.seeded.slug}/predict", {"instances": run.rows[:1]}
    )
    assert status == 200, (status, body)


def quick_writes(run: Run, writes: int):
    """``writes`` writes, each waited for until served: (waits, stages, CPU per stage, how
    many were served with reused trees, the last version, each write's wait and stages in
    ms — where a slow write's time went)."""
    from teaching.models import ModelVersion

    waits, stages, reused = [], {name: [] for name in STAGES}, 0
    cpus = {name: [] for name in STAGES}
    each = []
    for i in range(writes):
        wall0 = datetime.now(UTC)
        t0 = time.perf_counter()
        revision = run.write(i)
        t_write = time.perf_counter() - t0
        wait_for_revision(run.poller, run.seeded.slug, revision)
        total = time.perf_counter() - t0
        waits.append(total)
        version = (
            ModelVersion.objects.filter(
                space_id=run.seeded.space_id, teaching_revision__gte=revision
            )
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
        each.append(
            {"wait": round(total * 1000, 1), "version": version.pk}
            | {name: round(values[-1] * 1000, 1) for name, values in stages.items()}
        )
    return waits, stages, cpus, reused, version, each


def paced_writes(run: Run, start: int, n: int):
    """``n`` writes, each waited for until its refined version is served: (waits for the
    quick version, waits for the refined one, the quick versions' publish times, the
    refines' stages, their CPU, the last refined version)."""
    from teaching.models import ModelVersion

    paced, refined, quick_published = [], [], []
    refined_stages = {name: [] for name in REFINED_STAGES}
    refined_cpus = {name: [] for name in REFINED_STAGES}
    fresh = None
    for i in range(start, start + n):
        wall0 = datetime.now(UTC)
        t0 = time.perf_counter()
        revision = run.write(i)
        wait_for_revision(run.poller, run.seeded.slug, revision)
        paced.append(time.perf_counter() - t0)
        wait_for_refined(run.poller, run.seeded.slug, revision)
        refined.append(time.perf_counter() - t0)
        served_at = datetime.now(UTC)
        versions = ModelVersion.objects.filter(
            space_id=run.seeded.space_id, teaching_revision=revision, status="ready"
        ).order_by("version")
        quick, fresh = versions.first(), versions.last()
        quick_published.append((quick.trained_at - wall0).total_seconds())
        timings = fresh.timings or {}
        for name in REFINED_STAGES[:-1]:
            refined_stages[name].append(float(timings.get(name, 0.0)))
            refined_cpus[name].append(float((timings.get("cpu") or {}).get(name, 0.0)))
        refined_stages["notice"].append((served_at - fresh.trained_at).total_seconds())
    return paced, refined, quick_published, refined_stages, refined_cpus, fresh


def writes_into_refine(run: Run, start: int, n: int) -> list[float]:
    """Writes that land while a refine is fitting: REFINE_DELAY after a quick version is
    served its refine starts; a second later (M: within its forest) the next write."""
    from teaching.services.training import REFINE_DELAY

    during = []
    for i in range(start, start + n):
        time.sleep(REFINE_DELAY + 1.0)
        t0 = time.perf_counter()
        revision = run.write(i)
        wait_for_revision(run.poller, run.seeded.slug, revision)
        during.append(time.perf_counter() - t0)
    return during


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
