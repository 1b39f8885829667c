"""Benchmark of predictions through the API: one-instance latency across new versions, the
first batch after a new version, and 10,000-instance batches (labels, compact, full).

    .venv/bin/python bench/predict.py [--size M] [--calls 300] [--versions 4] [--batches 3]

Starts a real Celery worker and two gunicorn web servers (one worker process each) against
a throwaway data dir (as bench/retrain.py does): one with warm serving off
(``SERVING_CATCH_UP_SECONDS=0``: a request loads a new version itself, as before warm
serving) and one with it on (the default: each web process loads a published version in
the background and answers with the one it holds meanwhile). Seeds a space of ``--size``
(default M: 500 rules, 150 concepts, 10,000 examples, 20 features, 8 labels), trains it,
then with the space's API key, against each server in the same run:

- ``--calls`` one-instance ``POST /predict`` calls back to back while ``--versions`` new
  versions are published (a teaching write every calls/versions calls): p50, p99 and the
  slowest, every call included, of the wall time and of the request's CPU time in its web
  thread (``Server-Timing``), and the web process's CPU per call (background loads too);
- the first 2,000-instance explained batch after a new version (the write, then
  ``GET /model`` of that server until it reports the new revision) against the next one
  (warm), medians over ``--batches`` versions;

and against the warm-serving server, once the space has settled (no training under way,
its served version with fitted trees: see ``settle``), 10,000 instances with
``"explain": false``, ``"compact"`` and ``true`` (full): median wall time from sending the
request to the last byte of the answer (this client's JSON encoding and decoding left out),
the web process's CPU, answer size; the same labels only from the space's first version, which
has no trees (what a space serves until its first refine lands); then the version those
batches were answered with alone in this process, CPU medians of labels only and compact
explanations at 2,000, 5,000 and 10,000 rows.

Targets (issue 18, the 2-core machine at load ~1): one instance p50 ≤ 5 ms and p99 ≤ 20 ms
with the first calls after a new version included; cold batch ≤ 2 × warm; 10,000 labels
only ≤ 0.3 s; 10,000 compact ≤ 1 s. Wall times on a shared machine measure the neighbours'
load too: the request's own CPU time is printed beside them, and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import BenchEnv, Http, free_port, load, median, percentile
from bench._seeding import seed_space

SMALL_BATCH, BATCH = 2_000, 10_000
ENGINE_BATCHES = (2_000, 5_000, 10_000)
# Figures of the last session (README), for the rows this run has no "before" server for.
BEFORE = {"labels": 0.68, "full": 2.61, "full_mb": 92.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--versions", type=int, default=4)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import numpy as np

    print(f"load before start: {load()}", flush=True)
    env = BenchEnv.start(web_workers=1, consensus=False)  # its web server: warm serving on
    try:
        masters = {env.port: env.processes[-1].pid}
        cold_port = _start_web(env, {"SERVING_CATCH_UP_SECONDS": "0"})
        masters[cold_port] = env.processes[-1].pid
        _MASTERS.update(masters)
        size = args.size.upper()
        seeded = seed_space(size, seed=args.seed)
        bench = Bench(env, seeded, cold_port)
        bench.teach()
        print(f"{size}: seeded in {seeded.seconds:.1f} s, trained", flush=True)
        rng = np.random.default_rng(args.seed + 11)
        rows = seeded.world.sample_rows(args.calls, rng)
        small = seeded.world.sample_rows(SMALL_BATCH, rng)
        batch = seeded.world.sample_rows(BATCH, rng)
        singles = {name: bench.singles(name, rows, args.versions) for name in ("off", "on")}
        firsts = {name: bench.first_batches(name, small, args.batches) for name in ("off", "on")}
        _print_singles(singles)
        _print_firsts(firsts)
        bench.settle()
        answered = bench.batches(batch, args.batches)
        bench.treeless(batch, args.batches)
        bench.engine(batch, args.batches, answered)
    except BaseException:
        env.stop(failed=True)
        raise
    env.stop()


class Bench:
    def __init__(self, env: BenchEnv, seeded, cold_port: int) -> None:
        self.env, self.seeded = env, seeded
        self.ports = {"off": cold_port, "on": env.port}
        self.teacher = env.client(f"Token {seeded.token}")
        self.writes = 0
        self.path = f"/api/v1/spaces/{seeded.slug}/predict"

    def client(self, name: str) -> Http:
        return Http(self.ports[name], f"Api-Key {self.seeded.api_key}")

    def teach(self) -> int:
        """A teaching write; its revision (trained and published by the worker)."""
        self.writes += 1
        status, body = self.teacher.call(
            "POST",
            f"/api/v1/spaces/{self.seeded.slug}/rules",
            {
                "condition": f"b0 and n0 > {self.writes / 1000}",
                "label": "cue1",
                "rationale": "bench",
            },
        )
        assert status == 201, (status, body)
        return body["teaching_revision"]

    def wait_served(self, client: Http, revision: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body = client.call("GET", f"/api/v1/spaces/{self.seeded.slug}/model")
            assert status == 200, (status, body)
            if (body.get("teaching_revision") or 0) >= revision:
                return
            time.sleep(0.05)
        raise TimeoutError(f"revision {revision} not served")

    def singles(self, name: str, rows: list[dict], versions: int) -> dict:
        """One-instance calls back to back, new versions published among them."""
        client = self.client(name)
        self.wait_served(client, self.teach())
        client.call("POST", self.path, {"instances": rows[:1]})  # the process holds one
        every = max(1, len(rows) // max(1, versions))
        times, cpus, seen = [], [], set()
        cpu = web_cpu(self.ports[name])
        for i, row in enumerate(rows):
            if i and i % every == 0:
                self.teach()
            started = time.perf_counter()
            status, body = client.call("POST", self.path, {"instances": [row]})
            times.append(time.perf_counter() - started)
            cpus.append(client.server_cpu)
            assert status == 200, (status, body)
            seen.add(body["model_version"])
        cpu = web_cpu(self.ports[name]) - cpu
        client.close()
        return {
            "times": times,
            "cpus": cpus,
            "cpu": cpu / len(rows),
            "versions": len(seen),
            "load": load(),
        }

    def first_batches(self, name: str, rows: list[dict], rounds: int) -> dict:
        """The first explained batch after a new version, and the next one."""
        client = self.client(name)
        walls: dict[str, list[float]] = {"first": [], "next": []}
        cpus: dict[str, list[float]] = {"first": [], "next": []}
        for _ in range(rounds):
            revision = self.teach()
            self.wait_served(client, revision)
            for which in ("first", "next"):
                started = time.perf_counter()
                status, body = client.call("POST", self.path, {"instances": rows})
                walls[which].append(time.perf_counter() - started)
                cpus[which].append(client.server_cpu)
                assert status == 200 and body["teaching_revision"] >= revision, status
        client.close()
        return {
            **{which: median(values) for which, values in walls.items()},
            **{f"{which}_cpu": median(values) for which, values in cpus.items()},
            "load": load(),
        }

    def settle(self, timeout: float = 600) -> None:
        """Wait until no training is under way and the served version has fitted trees.

        Why: the earlier phases leave the last teaching's refine running, and until a
        space's first refine lands its versions have no trees and a wider kernel
        (blending.py), which the reach filter cannot narrow (reach.py): labels only at M cost
        ~0.1 s more CPU with them. Batches measured meanwhile timed whichever version the race
        left, beside a refine fitting on the same two cores (the first version is timed on
        its own in ``treeless``)."""
        client = self.client("on")
        deadline = time.monotonic() + timeout
        while True:
            status, body = client.call("GET", f"/api/v1/spaces/{self.seeded.slug}/model")
            assert status == 200, (status, body)
            trees = (body.get("metrics") or {}).get("trees") or {}
            if body["status"] == "ready" and trees.get("fitted_at_revision") is not None:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the space did not settle: {body['status']}, {trees}")
            time.sleep(0.2)
        client.close()

    def treeless(self, rows: list[dict], rounds: int) -> None:
        """Labels only from version 1, fitted before any tree (after one call loads it)."""
        client = self.client("on")
        status, first = client.call("GET", f"/api/v1/spaces/{self.seeded.slug}/model/versions/1")
        assert status == 200, (status, first)
        if (first["metrics"].get("trees") or {}).get("fitted_at_revision") is not None:
            client.close()
            return  # trained with trees from the start: nothing else to time
        body = {"instances": rows, "explain": False, "version": 1}
        status, answer = client.call("POST", self.path, body)
        assert status == 200, (status, answer)
        walls, cpus = [], []
        for _ in range(rounds):
            cpu = web_cpu(self.ports["on"])
            status, answer = client.call("POST", self.path, body)
            walls.append(client.wire_seconds)
            cpus.append(web_cpu(self.ports["on"]) - cpu)
            assert status == 200 and len(answer["predictions"]) == len(rows), status
        client.close()
        print(
            f"  {len(rows):,} instances, explain false, version 1 (no trees: served until the "
            f"first refine lands): median {median(walls):.2f} s wall (web process CPU "
            f"{median(cpus):.2f} s)   [load {load()}]",
            flush=True,
        )

    def batches(self, rows: list[dict], rounds: int) -> int:
        """The three kinds of 10,000-instance batches; the version that answered them."""
        client = self.client("on")
        answered = set()
        for explain in (False, "compact", True):
            walls, cpus = [], []
            for _ in range(rounds):
                cpu = web_cpu(self.ports["on"])
                status, body = client.call(
                    "POST", self.path, {"instances": rows, "explain": explain}
                )
                walls.append(client.wire_seconds)  # without this client's JSON work
                cpus.append(web_cpu(self.ports["on"]) - cpu)
                assert status == 200 and len(body["predictions"]) == len(rows), status
                answered.add(body["model_version"])
            size = len(json.dumps(body, separators=(",", ":"))) / 1e6
            wall, cpu = median(walls), median(cpus)
            if explain is False:
                verdict = _verdict(wall, 0.3)
                before = f"before {BEFORE['labels']:.2f} s (README, last session)"
            elif explain == "compact":
                verdict = _verdict(wall, 1.0)
                before = "vs full: see the next line (same run)"
            else:
                verdict = ""
                before = f"before {BEFORE['full']:.2f} s, {BEFORE['full_mb']:.0f} MB (README)"
            print(
                f"  {len(rows):,} instances, explain {json.dumps(explain)}: median {wall:.2f} s "
                f"wall (web process CPU {cpu:.2f} s), {size:.1f} MB; {before}  {verdict}"
                f"   [load {load()}]",
                flush=True,
            )
        client.close()
        assert len(answered) == 1, f"the batches were answered by versions {sorted(answered)}"
        return answered.pop()

    def engine(self, rows: list[dict], rounds: int, version: int) -> None:
        """``version`` (the one the batches above were answered with) alone in this process,
        one thread of BLAS: CPU medians of labels only (``predict_proba``) and compact
        explanations per batch size — what those requests cost in the engine, the rest
        being the web's."""
        import threadpoolctl

        from mola.engine.learning.arrays import rows_to_table
        from teaching.models import Space
        from teaching.services import serving
        from teaching.services.predict import serving_version

        space = Space.objects.get(pk=self.seeded.space_id)
        model = serving.load_model(serving_version(space=space, version=version))
        model.explain_compact(rows_to_table(space.schema, rows[:10]))  # built once per model
        print(
            f"  the engine alone (version {version}, as served above, this process, CPU medians):",
            flush=True,
        )
        with threadpoolctl.threadpool_limits(1):
            for n in ENGINE_BATCHES:
                table = rows_to_table(space.schema, rows[:n])
                figures = []
                for name, answer in (
                    ("labels", model.predict_proba),
                    ("compact", model.explain_compact),
                ):
                    cpus = []
                    for _ in range(rounds):
                        started = time.process_time()
                        answer(table)
                        cpus.append(time.process_time() - started)
                    figures.append(f"{name} {median(cpus):.3f} s")
                print(f"    {n:6,} rows: {', '.join(figures)}   [load {load()}]", flush=True)


def _verdict(value: float, target: float) -> str:
    return f"target ≤ {target:g} s: {'met' if value <= target else 'MISSED'}"


def _print_singles(singles: dict) -> None:
    print("  one instance, every call (new versions published among them):", flush=True)
    for name, label in (("off", "warm serving off (before)"), ("on", "warm serving on")):
        s = singles[name]
        p50, p99 = median(s["times"]) * 1000, percentile(s["times"], 99) * 1000
        c50, c99 = median(s["cpus"]) * 1000, percentile(s["cpus"], 99) * 1000
        print(
            f"    {label:26} wall p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  slowest "
            f"{max(s['times']) * 1000:6.0f} ms | request CPU p50 {c50:5.1f} ms  p99 {c99:5.1f} ms"
            f"  max {max(s['cpus']) * 1000:5.0f} ms | web process CPU {s['cpu'] * 1000:.1f} "
            f"ms/call ({len(s['times'])} calls, {s['versions']} versions answered)"
            f"   [load {s['load']}]",
            flush=True,
        )
    for what, key in (("wall", "times"), ("request CPU", "cpus")):
        on = singles["on"][key]
        verdict = median(on) <= 0.005 and percentile(on, 99) <= 0.020
        print(f"    target p50 ≤ 5 ms, p99 ≤ 20 ms ({what}): {'met' if verdict else 'MISSED'}")


def _print_firsts(firsts: dict) -> None:
    print(f"  first {SMALL_BATCH:,}-instance explained batch after a new version:", flush=True)
    for name, label in (("off", "warm serving off (before)"), ("on", "warm serving on")):
        f = firsts[name]
        print(
            f"    {label:26} wall first {f['first']:.2f} s, next {f['next']:.2f} s "
            f"({f['first'] / f['next']:.1f} ×) | request CPU first {f['first_cpu']:.2f} s, next "
            f"{f['next_cpu']:.2f} s ({f['first_cpu'] / f['next_cpu']:.1f} ×)   [load {f['load']}]",
            flush=True,
        )
    on = firsts["on"]
    for what, key in (("wall", ""), ("request CPU", "_cpu")):
        met = on[f"first{key}"] <= 2 * on[f"next{key}"]
        print(f"    target first ≤ 2 × next ({what}): {'met' if met else 'MISSED'}")


def _start_web(env: BenchEnv, extra: dict[str, str], timeout: float = 60) -> int:
    """Another web server on the same data dir and worker, with ``extra`` settings."""
    port, saved = free_port(), env.port
    before = dict(os.environ)
    os.environ.update(extra)
    try:
        env.port = port
        env._start_web(1, consensus=False, timeout=timeout)
    finally:
        env.port = saved
        os.environ.clear()
        os.environ.update(before)
    return port


def web_cpu(port: int) -> float:
    """CPU seconds (user + system) of the gunicorn worker processes serving ``port``."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for master in [_MASTERS[port]]:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        for pid in children:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


_MASTERS: dict[int, int] = {}  # port -> the gunicorn master's pid


if __name__ == "__main__":
    main()
