"""Benchmark of predictions through the API: one-instance latency and a 10,000-instance batch.

    .venv/bin/python bench/predict.py [--size M] [--calls 500] [--batches 3] [--seed 0]

Starts a real web server (gunicorn, one worker process) and a Celery worker against a
throwaway data dir (as bench/retrain.py does), seeds a space of ``--size`` (default M: 500
rules, 150 concepts, 10,000 examples, 20 features, 8 labels), trains it through the worker,
then with the space's API key times ``POST /api/v1/spaces/{slug}/predict``: ``--calls``
calls of one instance each (p50, p99; the first calls, which load the model, are left out),
``--batches`` calls of 10,000 instances with explanations (median wall time, instances per
second, the body's size, and the learner's ``explain`` alone for comparison) and as many
with ``"explain": false`` (label and probabilities only), and ``GET /model`` (p50).

Targets (issue 4, on the 2-core machine): one instance p50 ≤ 15 ms, a 10,000 batch ≤ 1 s.
"""

from __future__ import annotations

import argparse
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
    seed_space,
    wait_for_revision,
)

BATCH = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import numpy as np

    print(f"load before start: {load()}", flush=True)
    env = BenchEnv.start(web_workers=1, consensus=False)
    try:
        size = args.size.upper()
        seeded = seed_space(size, seed=args.seed)
        teacher = env.client(f"Token {seeded.token}")
        status, body = teacher.call(
            "POST",
            f"/api/v1/spaces/{seeded.slug}/rules",
            {"condition": "b0", "label": "cue1", "rationale": "starts the first training"},
        )
        assert status == 201, (status, body)
        trained, _ = wait_for_revision(teacher, seeded.slug, body["teaching_revision"])
        print(f"{size}: seeded in {seeded.seconds:.1f} s, trained in {trained:.1f} s", flush=True)

        client = env.client(f"Api-Key {seeded.api_key}")
        path = f"/api/v1/spaces/{seeded.slug}/predict"
        rng = np.random.default_rng(args.seed + 11)
        rows = seeded.world.sample_rows(args.calls + 10, rng)
        for row in rows[:10]:  # warm-up: the process loads the model once
            status, body = client.call("POST", path, {"instances": [row]})
            assert status == 200, (status, body)
        times = []
        for row in rows[10:]:
            started = time.perf_counter()
            status, body = client.call("POST", path, {"instances": [row]})
            times.append(time.perf_counter() - started)
            assert status == 200, (status, body)
        p50, p99 = median(times), percentile(times, 99)
        print(
            f"  one instance over {len(times)} calls: p50 {p50 * 1000:.1f} ms  "
            f"p99 {p99 * 1000:.1f} ms  {'ok' if p50 <= 0.015 else 'MISSES 15 ms'}"
            f"   [load {load()}]",
            flush=True,
        )

        batch = seeded.world.sample_rows(BATCH, rng)
        explain = _explain_seconds(seeded, batch)
        for explained in (True, False):
            batch_times = []
            for _ in range(args.batches):
                started = time.perf_counter()
                status, body = client.call("POST", path, {"instances": batch, "explain": explained})
                batch_times.append(time.perf_counter() - started)
                assert status == 200 and len(body["predictions"]) == BATCH, status
            took = median(batch_times)
            raw = json.dumps(body, separators=(",", ":"))
            started = time.perf_counter()
            json.loads(raw)  # what the client spends decoding the answer, inside ``took``
            decode = time.perf_counter() - started
            print(
                f"  {BATCH:,} instances in one call, explain {str(explained).lower()}: median "
                f"{took:.2f} s ({BATCH / took:,.0f} instances/s; {len(raw) / 1e6:.1f} MB, "
                f"the client decodes it in {decode:.2f} s"
                + (f"; the learner's explain alone {explain:.2f} s" if explained else "")
                + f")  {'ok' if took <= 1.0 else 'MISSES 1 s'}   [load {load()}]",
                flush=True,
            )

        get_times = []
        for _ in range(50):
            started = time.perf_counter()
            status, _ = client.call("GET", f"/api/v1/spaces/{seeded.slug}/model")
            get_times.append(time.perf_counter() - started)
            assert status == 200, status
        print(f"  GET /model: p50 {median(get_times) * 1000:.1f} ms   [load {load()}]", flush=True)
        teacher.close()
        client.close()
    except BaseException:
        env.stop(failed=True)
        raise
    env.stop()


def _explain_seconds(seeded, rows) -> float:
    """The learner's ``explain`` of ``rows`` with the serving model, timed in this process."""
    from mola.engine.table import table_from_rows
    from teaching.models import Space
    from teaching.services.predict import load_model, serving_version

    space = Space.objects.get(pk=seeded.space_id)
    model = load_model(serving_version(space=space))
    table = table_from_rows(space.schema, rows)
    model.explain(table)
    started = time.perf_counter()
    model.explain(table)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
