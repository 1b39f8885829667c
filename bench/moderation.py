"""Benchmark of moderation at community scale: the contradictions list at 100,000 stored
contradictions, a resolve of one dispute, and thread packing.

    .venv/bin/python bench/moderation.py [--stored 100000] [--repeat 15]

The community: 30 members teaching 500 rules and 5,000 examples (``bench/synthetic.py``,
seeded through ``bench/_seeding.seed_space``, every teaching active). A real consensus check
stores what it finds and opens the threads; then rows are generated to reach ``--stored``
contradictions (random pairs of the space's teachings, kinds and statuses mixed as a check
stores them, a share attached to threads), so the list is timed at that size. The script
says how many rows are real and how many generated.

Prints, medians of ``--repeat`` calls (wall and CPU, ``time.process_time``) with the load:

- list pages through the API (``GET /contradictions`` with ``count``): the first page, a
  deep page, and each filter (target <= 200 ms at 100,000 stored contradictions); the list
  grouped by teaching;
- a resolve of one dispute of a multi-dispute thread through the API (target <= 300 ms),
  with the thread's other disputes left open (checked);
- thread packing (``threads_plan`` + ``threads_within_budget``) on every open dispute: time,
  threads, and the bound ``components + 2 * disputes / max_size``.

With no environment the stack is SQLite in a throwaway data dir; DATABASE_URL is passed
through (PostgreSQL).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness, _seeding, synthetic
from bench._harness import load, median

MEMBERS, RULES, CONCEPTS, EXAMPLES = 30, 500, 50, 5_000
KIND_SHARE = {  # of generated rows, close to what a check stores
    "rule_example": 0.55,
    "rule_overlap": 0.3,
    "rule_exception": 0.1,
    "example_conflict": 0.05,
}
STATUS_SHARE = {"open": 0.8, "resolved": 0.15, "dismissed": 0.05}
THREADED_SHARE = 0.1  # of generated open rows, attached to one of the space's threads


def seed_community():
    """30 members, 500 rules, 5,000 examples; a real consensus check."""
    from consensus.models import Contradiction
    from consensus.services import consensus_recompute
    from teaching.models import Space

    synthetic.N_AUTHORS = MEMBERS  # the synthetic community's size (read at call time)
    _seeding.SIZES["moderation"] = (RULES, CONCEPTS, EXAMPLES)
    seeded = _seeding.seed_space("moderation", seed=0)
    space = Space.objects.get(pk=seeded.space_id)
    started, cpu = time.perf_counter(), time.process_time()
    consensus_recompute(space=space)
    print(
        f"community: {MEMBERS} members, {RULES} rules, {EXAMPLES} examples; "
        f"consensus check {time.perf_counter() - started:.1f} s "
        f"({time.process_time() - cpu:.1f} s CPU): "
        f"{Contradiction.objects.filter(space=space).count():,} contradictions stored"
    )
    return seeded, space


def reused_community():
    """The newest community a previous run seeded in this data dir, and a new token of its
    owner (tokens are stored hashed: an old one cannot be read back)."""
    from community.services.accounts import token_create
    from teaching.models import Membership, Space

    space = Space.objects.filter(slug__startswith="bench-moderation-").order_by("-pk").first()
    if space is None:
        raise SystemExit("--reuse: no community in this MOLA_DATA_DIR; run once without it")
    owner = Membership.objects.get(space=space, role="owner").user
    seeded = _seeding.Seeded(space.slug, space.pk, token_create(user=owner), "", None, [], 0)
    print(f"community: reused {space.slug} ({MEMBERS} members, {RULES} rules, {EXAMPLES} examples)")
    return seeded, space


def generate_rows(space, target: int, rng: random.Random) -> int:
    """Generated contradictions until the space stores ``target``; returns how many."""
    from community.models import Thread
    from consensus.columns import teaching_columns_fill
    from consensus.models import Contradiction
    from teaching.models import Example, Rule

    have = Contradiction.objects.filter(space=space).count()
    missing = max(0, target - have)
    rules = list(Rule.objects.filter(space=space).values_list("pk", flat=True))
    examples = list(Example.objects.filter(space=space).values_list("pk", flat=True))
    threads = list(Thread.objects.filter(space=space).values_list("pk", flat=True))
    kinds, kind_weights = zip(*KIND_SHARE.items(), strict=True)
    statuses, status_weights = zip(*STATUS_SHARE.items(), strict=True)
    batch: list[Contradiction] = []
    for i in range(missing):
        kind = rng.choices(kinds, kind_weights)[0]
        if kind == "rule_example":
            pair = [("rule", rng.choice(rules)), ("example", rng.choice(examples))]
        elif kind == "example_conflict":
            pair = [("example", pk) for pk in sorted(rng.sample(examples, 2))]
        else:
            pair = [("rule", pk) for pk in sorted(rng.sample(rules, 2))]
        status = rng.choices(statuses, status_weights)[0]
        threaded = status == "open" and threads and rng.random() < THREADED_SHARE
        batch.append(
            Contradiction(
                space=space,
                key=f"generated:{i}",
                kind=kind,
                teachings=[{"type": t, "id": pk} for t, pk in pair],
                witness={},
                region="generated",
                severity=round(rng.betavariate(2, 5), 4),
                status=status,
                thread_id=rng.choice(threads) if threaded else None,
            )
        )
        if len(batch) == 2_000 or i == missing - 1:
            teaching_columns_fill(space=space, rows=batch)
            Contradiction.objects.bulk_create(batch)
            batch = []
    return missing


def timed(action, repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU milliseconds of ``repeat`` calls (after one warm-up), and the last
    result."""
    result = action()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return median(walls), median(cpus), result


def list_pages(seeded, space, repeat: int) -> None:
    """The list through the API, one line per query."""
    from django.db.models import Count
    from rest_framework.test import APIClient

    from consensus.models import Contradiction

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {seeded.token}")
    base = f"/api/v1/spaces/{space.slug}/contradictions"
    busiest = (
        Contradiction.objects.filter(space=space, status="open")
        .values("first")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["first"]
    )
    from teaching.models import Rule

    member = Rule.objects.filter(space=space).select_related("author").first().author.username
    queries = [
        ("first page (50)", ""),
        ("page 100 (50 each)", "page=100"),
        ("one page of 500", "page_size=500"),
        (f"teaching={busiest}", f"teaching={busiest}"),
        ("member=<one of 30>", f"member={member}"),
        ("min_severity=0.5", "min_severity=0.5"),
        ("kind=rule_overlap", "kind=rule_overlap"),
        ("has_thread=true", "has_thread=true"),
        ("has_thread=false", "has_thread=false"),
        ("status=resolved", "status=resolved"),
        ("member + kind + min_severity", f"member={member}&kind=rule_example&min_severity=0.3"),
    ]
    print(f"\nGET /contradictions at {Contradiction.objects.filter(space=space).count():,} stored")
    print(f"  {'query':34} {'count':>8} {'wall ms':>8} {'CPU ms':>7}")
    for name, query in queries:
        wall, cpu, response = timed(lambda q=query: client.get(f"{base}?{q}"), repeat)
        assert response.status_code == 200, response.json()
        print(f"  {name:34} {response.json()['count']:>8,} {wall:>8.1f} {cpu:>7.1f}")
    wall, cpu, response = timed(lambda: client.get(f"{base}/by-teaching"), repeat)
    assert response.status_code == 200, response.json()
    print(f"  {'by-teaching (groups)':34} {response.json()['count']:>8,} {wall:>8.1f} {cpu:>7.1f}")


def resolve_one(seeded, space, repeat: int) -> None:
    """Resolve one dispute of each of ``repeat`` multi-dispute threads through the API."""
    from django.db.models import Count, Q
    from rest_framework.test import APIClient

    from community.models import Thread
    from consensus.models import Contradiction

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {seeded.token}")
    threads = list(
        Thread.objects.filter(space=space, status="open")
        .annotate(n=Count("contradictions", filter=Q(contradictions__status="open")))
        .filter(n__gte=2)
        .order_by("-n", "pk")[: repeat + 1]
    )
    walls, cpus = [], []
    for thread in threads:
        disputes = list(
            Contradiction.objects.filter(thread=thread, status="open").order_by("-severity", "id")
        )
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.post(
            f"/api/v1/threads/{thread.pk}/resolve",
            {"outcome": "dismiss", "contradictions": [disputes[0].pk], "note": "Deliberate."},
            format="json",
        )
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, response.json()
        others = Contradiction.objects.filter(pk__in=[d.pk for d in disputes[1:]])
        assert all(c.status == "open" for c in others), "a resolve closed more than it named"
        assert response.json()["status"] == "open"
    walls, cpus = walls[1:], cpus[1:]  # the first warms the process up
    print(
        f"\nPOST /threads/{{id}}/resolve of one dispute ({len(walls)} threads of 2+ open "
        f"disputes; the others stayed open): wall {median(walls):.1f} ms, "
        f"CPU {median(cpus):.1f} ms (median)"
    )


def packing(space) -> None:
    """threads_plan + threads_within_budget on every open stored dispute."""
    import networkx as nx

    from community.services.threads import MAX_OPEN_THREADS
    from consensus.dispute_threads import THREAD_MAX_SIZE, threads_plan
    from consensus.models import Contradiction
    from mola.engine.consensus import Contradiction as Found
    from mola.engine.consensus import Ref, threads_within_budget

    found: dict[str, Found] = {}
    rows = Contradiction.objects.filter(space=space, status="open").values_list(
        "key", "kind", "teachings", "severity", "summary"
    )
    for key, kind, teachings, severity, summary in rows.iterator():
        refs = tuple(sorted(Ref(t["type"], t["id"]) for t in teachings))
        found[key] = Found(kind, refs, {}, "", {}, severity, "", key, summary=summary or key)
    started, cpu = time.perf_counter(), time.process_time()
    plan = threads_plan(found=found, open_keys=set(found), threaded={})
    chosen = threads_within_budget(plan.groups, open_elsewhere=0, max_open=MAX_OPEN_THREADS)
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    leaders = [found[rows[0].key] for rows in plan.followers.values()]
    graph = nx.Graph()
    graph.add_edges_from(tuple(c.teachings) for c in leaders)
    components = nx.number_connected_components(graph)
    bound = components + 2 * len(leaders) / THREAD_MAX_SIZE
    print(
        f"\nthread packing of {len(found):,} open disputes ({len(leaders):,} after an example's "
        f"disputes follow their rule): {len(plan.groups):,} groups "
        f"(bound {bound:,.0f} = {components:,} components + 2 * disputes / {THREAD_MAX_SIZE}), "
        f"{len(chosen)} get a thread within the budget of {MAX_OPEN_THREADS}; "
        f"{wall_s:.2f} s wall, {cpu_s:.2f} s CPU"
    )
    assert len(plan.groups) <= bound


def statistics_as_a_deployment_has() -> None:
    """On PostgreSQL, VACUUM ANALYZE the contradictions just written, as autovacuum does
    within a minute of a bulk write in a deployment (PostgreSQL's default). Some machines run
    with autovacuum off: there, index-only scans of a never-vacuumed table visit every heap
    row, and a count of 112,000 rows took 266 ms instead of 30."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
        started = time.perf_counter()
        cursor.execute("VACUUM ANALYZE consensus_contradiction")
    print(
        f"VACUUM ANALYZE of the contradictions: {time.perf_counter() - started:.1f} s "
        f"(this server's autovacuum: {autovacuum})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the newest community already in MOLA_DATA_DIR (no seeding, no check)",
    )
    args = parser.parse_args()
    _harness.in_process("moderation")
    from django.db import connection

    print(f"database: {connection.vendor}; load before: {load()}")
    seeded, space = reused_community() if args.reuse else seed_community()
    generated = generate_rows(space, args.stored, random.Random(0))
    print(f"generated {generated:,} more contradictions to store {args.stored:,}")
    statistics_as_a_deployment_has()
    list_pages(seeded, space, args.repeat)
    resolve_one(seeded, space, args.repeat)
    packing(space)
    print(f"\nload after: {load()}")


if __name__ == "__main__":
    main()
