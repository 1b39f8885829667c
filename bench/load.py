"""Load: concurrent teachers and clients against a real web server and worker, for a bounded
time, on loopback. Prints lost writes, server errors, write and predict p95, and how long
the model took to reach the last revision once the load stopped.

    .venv/bin/python bench/load.py [--teachers 10] [--clients 5] [--seconds 30] [--think 1.0]
                                   [--web-workers 2] [--size S]

Each teacher (an expert member of a seeded space of ``--size``) writes a rule, an example or
an edit of its own rule, then waits ``--think`` seconds; each client predicts one instance
with the space's API key, back to back. Afterwards every write answered 201/200 is looked up
in the database with the revision it was answered with (a missing one is a lost write), and
``GET /model`` is polled until it serves the newest revision. The stack is whatever the
environment says (SQLite and the filesystem broker by default; DATABASE_URL,
CELERY_BROKER_URL and REDIS_URL for PostgreSQL and Redis). Teaching-write rate limits are
turned off for the run (``TEACHING_WRITE_RATE=``): the load is the point, not a member's pace.

Issue 17's run: 50 teachers and 20 clients on PostgreSQL + Redis for 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench._harness import BenchEnv, load, percentile, wait_for_revision
from bench._seeding import seed_space


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    writes: list[float] = field(default_factory=list)
    predicts: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    acknowledged: list[tuple[str, int, int]] = field(default_factory=list)  # kind, id, rev
    errors: list[str] = field(default_factory=list)

    def record(self, what: str, status: int, seconds: float, body) -> None:
        with self.lock:
            self.statuses[(what, status)] += 1
            (self.writes if what != "predict" else self.predicts).append(seconds)
            if status >= 500 and len(self.errors) < 5:
                self.errors.append(f"{what} {status}: {str(body)[:200]}")


def _teacher(env, token, slug, world, stop, tally, think: float, seed: int) -> None:
    client = env.client(f"Token {token}")
    rng = random.Random(seed)
    base = f"/api/v1/spaces/{slug}"
    features = world.schema.features
    mine: list[int] = []
    rows = world.sample_rows(200, np.random.default_rng(seed))
    while not stop.is_set():
        feature = rng.choice([f for f in features if f.kind == "number"])
        value = round(rng.uniform(feature.min or 0, feature.max or 100), 2)
        label = rng.choice(world.schema.label_names)
        choice = rng.random()
        if mine and choice < 0.2:
            what, method, path = "edit", "PATCH", f"{base}/rules/{rng.choice(mine)}"
            body = {"rationale": f"edited {time.time()}"}
        elif choice < 0.6:
            what, method, path = "rule", "POST", f"{base}/rules"
            body = {"condition": f"{feature.name} > {value}", "label": label}
        else:
            what, method, path = "example", "POST", f"{base}/examples"
            body = {"features": rng.choice(rows), "label": label}
        started = time.perf_counter()
        try:
            status, answer = client.call(method, path, body)
        except OSError as error:
            status, answer = 599, str(error)
        tally.record(what, status, time.perf_counter() - started, answer)
        if status in (200, 201):
            kind = "rule" if what in ("rule", "edit") else "example"
            with tally.lock:
                tally.acknowledged.append((kind, answer["id"], answer["teaching_revision"]))
            if what == "rule":
                mine.append(answer["id"])
        stop.wait(think)
    client.close()


def _client(env, api_key, slug, world, stop, tally, seed: int) -> None:
    client = env.client(f"Api-Key {api_key}")
    rng = random.Random(seed)
    rows = world.sample_rows(200, np.random.default_rng(seed))
    while not stop.is_set():
        body = {"instances": [rng.choice(rows)]}
        started = time.perf_counter()
        try:
            status, answer = client.call("POST", f"/api/v1/spaces/{slug}/predict", body)
        except OSError as error:
            status, answer = 599, str(error)
        tally.record("predict", status, time.perf_counter() - started, answer)
    client.close()


def _lost(acknowledged) -> list[tuple[str, int, int]]:
    """Acknowledged writes the database does not hold at (or past) their revision."""
    from teaching.models import Example, Rule, TeachingRevision

    lost = []
    models = {"rule": Rule, "example": Example}
    for kind, teaching_id, revision in acknowledged:
        if not models[kind].objects.filter(pk=teaching_id).exists() or not (
            TeachingRevision.objects.filter(
                kind=kind, teaching_id=teaching_id, revision=revision
            ).exists()
        ):
            lost.append((kind, teaching_id, revision))
    return lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=10)
    parser.add_argument("--clients", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--size", default="S")
    args = parser.parse_args()
    os.environ["TEACHING_WRITE_RATE"] = ""
    os.environ["TEACHING_WRITE_RATE_NOVICE"] = ""
    print(f"load before start: {load()}", flush=True)
    env = BenchEnv.start(web_workers=args.web_workers)
    failed = True
    try:
        seeded = seed_space(args.size)
        tokens = _teachers(seeded, args.teachers)
        _train(env, seeded)
        stop, tally = threading.Event(), Tally()
        threads = [
            threading.Thread(
                target=_teacher,
                args=(env, token, seeded.slug, seeded.world, stop, tally, args.think, n),
            )
            for n, token in enumerate(tokens)
        ] + [
            threading.Thread(
                target=_client,
                args=(env, seeded.api_key, seeded.slug, seeded.world, stop, tally, 1000 + n),
            )
            for n in range(args.clients)
        ]
        cpu = time.process_time()
        for thread in threads:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        stopped = time.perf_counter()
        newest = max((rev for _, _, rev in tally.acknowledged), default=1)
        waited, _ = wait_for_revision(
            env.client(f"Token {seeded.token}"), seeded.slug, newest, timeout=600
        )
        lost = _lost(tally.acknowledged)
        _report(args, tally, lost, newest, waited, time.perf_counter() - stopped, cpu)
        failed = bool(lost) or any(status >= 500 for _, status in tally.statuses)
    finally:
        env.stop(failed=failed)
    sys.exit(1 if failed else 0)


def _train(env, seeded) -> None:
    """A first model of the seeded space (its rows were bulk-created: nothing asked yet)."""
    client = env.client(f"Token {seeded.token}")
    status, body = client.call(
        "POST",
        f"/api/v1/spaces/{seeded.slug}/rules",
        {
            "condition": f"{_number(seeded.world).name} > 0",
            "label": seeded.world.schema.label_names[0],
        },
    )
    if status != 201:
        raise RuntimeError(f"could not write the first rule: {status} {body}")
    wait_for_revision(client, seeded.slug, body["teaching_revision"], timeout=600)


def _number(world):
    return next(f for f in world.schema.features if f.kind == "number")


def _teachers(seeded, n: int) -> list[str]:
    """``n`` expert members of the seeded space, each with a token."""
    from django.contrib.auth import get_user_model

    from community.services.accounts import token_create
    from teaching.models import Membership

    User = get_user_model()
    tokens = []
    for i in range(n):
        user = User.objects.create_user(username=f"load-teacher-{seeded.space_id}-{i}")
        Membership.objects.create(space_id=seeded.space_id, user=user, expertise="expert")
        tokens.append(token_create(user=user))
    return tokens


def _report(args, tally, lost, newest, waited, since_stop, cpu) -> None:
    from django.conf import settings

    writes = sum(n for (what, _), n in tally.statuses.items() if what != "predict")
    server_errors = sum(n for (_, status), n in tally.statuses.items() if status >= 500)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
    print(
        f"{args.teachers} teachers (think {args.think} s) and {args.clients} clients for"
        f" {args.seconds:.0f} s on {engine} + {broker}, {args.web_workers} web workers,"
        f" load after: {load()}"
    )
    print(f"statuses: {dict(sorted(tally.statuses.items()))}")
    print(
        f"writes: {writes} ({len(tally.acknowledged)} acknowledged), lost: {len(lost)} {lost[:5]}"
    )
    print(f"server errors: {server_errors} {tally.errors}")
    print(
        f"write p50 {percentile(tally.writes, 50) * 1000:.0f} ms,"
        f" p95 {percentile(tally.writes, 95) * 1000:.0f} ms;"
        f" predict p50 {percentile(tally.predicts, 50) * 1000:.0f} ms,"
        f" p95 {percentile(tally.predicts, 95) * 1000:.0f} ms"
        f" ({len(tally.predicts)} calls)"
    )
    print(
        f"model at the last revision ({newest}) {waited:.1f} s after the load stopped"
        f" ({since_stop:.1f} s with the checks); bench process CPU"
        f" {time.process_time() - cpu:.1f} s"
    )


if __name__ == "__main__":
    main()
