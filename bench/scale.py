"""Scale: teaching writes/s and predictions/s through gunicorn and the worker pools against
the number of web and worker processes, and the figures to size a deployment.

    .venv/bin/python bench/scale.py [--configs 1x1,2x1,2x2] [--spaces 4] [--seconds 15]
                                    [--clients 8] [--sizing S,M]

A configuration ``WxM`` runs W gunicorn worker processes (4 threads each) and M "machines"
of workers, each a training-pool worker (2 processes) and a consensus-pool worker (1), as
``docker-compose.yml`` runs them (``mola/pools.py``). For each, on ``--spaces`` seeded S
spaces with a first model: ``--clients`` threads predict one instance back to back
(predictions/s, p50, p95, and the web processes' CPU per call, after 3 s of warm-up), then
one teacher per space writes back to back (writes/s, p50, p95, web CPU per write), and the
time from the last write until every space serves its newest revision (``drain``) with the
quick trainings published per second meanwhile and the workers' CPU. The resident memory of
each process is read from /proc when the phase ends (warm: models loaded, indexes built).

Then, in this process, the sizing figures at each size of ``--sizing``: the database bytes a
seeded space adds, a model version's stored artifact (quick and refined) and its memory
once loaded in a web process, and a space's consensus index in a worker's memory.

The stack is what the environment says (SQLite and the filesystem broker by default;
DATABASE_URL, CELERY_BROKER_URL, REDIS_URL for PostgreSQL and Redis). Figures on a shared
2-core machine: CPU is the limit, so more processes add concurrency, not throughput.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import BenchEnv, load, percentile, wait_for_revision
from bench._seeding import seed_space

MB = 1024 * 1024


def _rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def _roles(env: BenchEnv) -> dict[str, list[int]]:
    """The pids by role: web (gunicorn's workers), training and consensus (each worker's
    main process and its pool's processes)."""
    roles: dict[str, list[int]] = {"web": [], "training": [], "consensus": []}
    for process, name in zip(env.processes, env.names, strict=True):
        if name == "web.log":
            roles["web"] += _children(process.pid)
        else:
            role = "training" if name.startswith("worker-training") else "consensus"
            roles[role] += [process.pid, *_children(process.pid)]
    return roles


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def _spaces(n: int) -> list:
    return [seed_space("S", seed=i) for i in range(n)]


def _first_models(env: BenchEnv, spaces: list) -> None:
    for space in spaces:
        client = env.client(f"Token {space.token}")
        status, body = client.call(
            "POST", f"/api/v1/spaces/{space.slug}/rules", {"condition": "b0", "label": "cue1"}
        )
        assert status == 201, (status, body)
        wait_for_revision(client, space.slug, body["teaching_revision"], timeout=600)


def _hammer(env: BenchEnv, jobs: list, seconds: float) -> tuple[list[float], list[int]]:
    """Run ``jobs`` (authorization, method, path, body-maker) in threads, back to back, for
    ``seconds``: each call's time and the revisions the writes answered."""
    stop = threading.Event()
    lock = threading.Lock()
    times: list[float] = []
    revisions: list[int] = []
    failures: list[str] = []

    def run(authorization, method, path, make) -> None:
        client = env.client(authorization)
        n = 0
        while not stop.is_set():
            started = time.perf_counter()
            status, body = client.call(method, path, make(n))
            took = time.perf_counter() - started
            n += 1
            with lock:
                if status not in (200, 201):
                    failures.append(f"{status} {str(body)[:200]}")
                    continue
                times.append(took)
                if isinstance(body, dict) and "teaching_revision" in body and method == "POST":
                    revisions.append(body["teaching_revision"])
        client.close()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    if failures:
        raise RuntimeError(f"{len(failures)} calls failed, first: {failures[0]}")
    return times, revisions


def _predictions(env, spaces, clients: int, seconds: float) -> dict:
    import numpy as np

    def job(space):
        rows = space.world.sample_rows(50, np.random.default_rng(0))
        return (
            f"Api-Key {space.api_key}",
            "POST",
            f"/api/v1/spaces/{space.slug}/predict",
            lambda n: {"instances": [rows[n % len(rows)]]},
        )

    jobs = [job(spaces[i % len(spaces)]) for i in range(clients)]
    times, _ = _hammer(env, jobs, seconds)
    return {
        "rate": len(times) / seconds,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "calls": len(times),
    }


def _writes(env, spaces, seconds: float) -> dict:
    from teaching.models import ModelVersion

    def job(space):
        top = next(f for f in space.world.schema.features if f.name == "n0").max or 1.0
        return (
            f"Token {space.token}",
            "POST",
            f"/api/v1/spaces/{space.slug}/rules",
            lambda n: {"condition": f"n0 > {round(top * (n % 97) / 97, 3)}", "label": "cue2"},
        )

    jobs = [job(space) for space in spaces]
    before = ModelVersion.objects.filter(requested_at__isnull=False).count()
    started = time.perf_counter()
    times, _ = _hammer(env, jobs, seconds)
    stopped = time.perf_counter()
    from teaching.models import Space

    for space in spaces:
        newest = Space.objects.get(pk=space.space_id).teaching_revision
        wait_for_revision(env.client(f"Token {space.token}"), space.slug, newest, timeout=600)
    drained = time.perf_counter()
    trainings = ModelVersion.objects.filter(requested_at__isnull=False).count() - before
    return {
        "rate": len(times) / seconds,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "calls": len(times),
        "drain": drained - stopped,
        "trainings": trainings / (drained - started),
    }


def _run_config(web: int, machines: int, spaces_n: int, args, spaces: list | None):
    env = BenchEnv.start(web_workers=web, worker_machines=machines)
    try:
        if spaces is None:
            spaces = _spaces(spaces_n)
            _first_models(env, spaces)
        roles = _roles(env)
        _predictions(env, spaces, args.clients, 3)  # every web process loads every model
        web_cpu = _cpu(roles["web"])
        predicted = _predictions(env, spaces, args.clients, args.seconds)
        # Server CPU per call: what a prediction or a write costs, whatever the load.
        predicted["cpu"] = (_cpu(roles["web"]) - web_cpu) / max(1, predicted["calls"])
        web_cpu, worker_cpu = _cpu(roles["web"]), _cpu(roles["training"] + roles["consensus"])
        written = _writes(env, spaces, args.seconds)
        written["cpu"] = (_cpu(roles["web"]) - web_cpu) / max(1, written["calls"])
        written["worker_cpu"] = _cpu(roles["training"] + roles["consensus"]) - worker_cpu
        memory = {role: [_rss(pid) for pid in pids] for role, pids in roles.items()}
    finally:
        env.stop()
    return spaces, predicted, written, memory


HEADER = (
    "web x machines | predict/s   p50   p95  CPU/call | writes/s   p50   p95  CPU/call |"
    " drain  trainings/s  worker CPU | RSS MB: per web process; training, consensus"
    " processes in all"
)


def _print_config(web: int, machines: int, predicted: dict, written: dict, memory) -> None:
    web_rss = max(memory["web"], default=0) / MB
    training = sum(memory["training"]) / MB
    consensus = sum(memory["consensus"]) / MB
    print(
        f"{web} x {machines:<11}| {predicted['rate']:9.1f} {predicted['p50'] * 1000:5.0f}"
        f" {predicted['p95'] * 1000:5.0f} {predicted['cpu'] * 1000:6.1f} ms |"
        f" {written['rate']:8.1f} {written['p50'] * 1000:5.0f}"
        f" {written['p95'] * 1000:5.0f} {written['cpu'] * 1000:6.1f} ms |"
        f" {written['drain']:5.1f} {written['trainings']:8.2f} {written['worker_cpu']:9.1f} s"
        f"  | {web_rss:4.0f}; {training:4.0f} ({len(memory['training'])}),"
        f" {consensus:4.0f} ({len(memory['consensus'])})  (load {load()})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default="1x1,2x1,2x2")
    parser.add_argument("--spaces", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--sizing", default="S,M")
    args = parser.parse_args()
    os.environ["TEACHING_WRITE_RATE"] = ""
    os.environ["TEACHING_WRITE_RATE_NOVICE"] = ""
    own = "MOLA_DATA_DIR" not in os.environ
    if own:  # one data dir for every configuration (each starts its own processes on it)
        os.environ["MOLA_DATA_DIR"] = tempfile.mkdtemp(prefix="mola-scale-")
    print(f"load before start: {load()}", flush=True)
    try:
        spaces = None
        print(HEADER, flush=True)
        for config in args.configs.split(","):
            web, machines = (int(part) for part in config.lower().split("x"))
            spaces, *figures = _run_config(web, machines, args.spaces, args, spaces)
            _print_config(web, machines, *figures)
        from bench._scale_sizing import print_sizing

        print_sizing([s.strip().upper() for s in args.sizing.split(",") if s.strip()])
        print(f"load after: {load()}")
    finally:
        if own:
            shutil.rmtree(os.environ["MOLA_DATA_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
