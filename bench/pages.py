"""Every page of a space, at the demo's size and at M: its status, time and weight, and the
longest list it shows — nobody reads 200 items, so a page that lists more is a finding.

    .venv/bin/python bench/pages.py [--sizes demo,M] [--repeat 3] [--pool 10000]

``demo`` is the seeded demo community (``make demo``); ``M`` is 500 rules, 150 concepts and
10,000 examples from 30 members (``bench/synthetic.py``) with a real consensus check
(contradictions, disputes, threads), a trained model and ``--pool`` cases in its pool. Each
page is fetched as the space's owner (who sees every page) through Django's test client, in
this process: the first fetch (cold caches) and the median of ``--repeat`` more, wall and
CPU (``time.process_time``). "rows" is the number of table rows and list items in the page,
the most a reader is shown at once. With no environment the database is SQLite in a
throwaway data dir; DATABASE_URL is passed through (PostgreSQL).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _harness, _seeding, synthetic  # noqa: E402
from bench._harness import load, median  # noqa: E402

MEMBERS = 30
ROWS_READ = 100  # a page listing more rows than this at once is flagged
ROW = re.compile(rb"<tr[\s>]|<li[\s>]")


def seed_demo():
    from consensus.services import consensus_recompute
    from mola.demo import DEMO_SLUG, seed_demo
    from teaching.models import Membership, Space
    from teaching.tasks import retrain_space

    seed_demo()
    space = Space.objects.get(slug=DEMO_SLUG)
    consensus_recompute(space=space)  # as the demo's worker does after seeding
    retrain_space.apply(args=(space.pk,))
    return space, Membership.objects.get(space=space, role="owner").user


def seed_m(pool: int):
    from cases.services.pool import cases_import
    from community.models import Thread
    from consensus.models import Contradiction
    from consensus.services import consensus_recompute
    from teaching.models import Membership, Space
    from teaching.tasks import retrain_space

    synthetic.N_AUTHORS = MEMBERS
    seeded = _seeding.seed_space("M", seed=0)
    space = Space.objects.get(pk=seeded.space_id)
    owner = Membership.objects.get(space=space, role="owner").user
    started, cpu = time.perf_counter(), time.process_time()
    consensus_recompute(space=space)
    print(
        f"  consensus check {time.perf_counter() - started:.1f} s "
        f"({time.process_time() - cpu:.1f} s CPU): "
        f"{Contradiction.objects.filter(space=space).count():,} contradictions, "
        f"{Thread.objects.filter(space=space).count():,} threads"
    )
    started = time.perf_counter()
    # Bulk-seeded rows asked for no training: ask for the space's revision (at least 1).
    retrain_space.apply(kwargs={"space_id": space.pk, "revision": max(space.teaching_revision, 1)})
    print(f"  model trained in {time.perf_counter() - started:.1f} s")
    if pool:
        import numpy as np

        rows = seeded.world.sample_rows(pool, np.random.default_rng(1))
        cases_import(space=space, user=owner, rows=rows)
        print(f"  {pool:,} cases in the pool")
    return space, owner


def pages(space) -> list[str]:
    """Every page of the space a member reads (GET), with one of each teaching and thread."""
    from community.models import Thread
    from teaching.models import Concept, Example, Membership, Rule

    s = f"/spaces/{space.slug}"
    rule = Rule.objects.filter(space=space).order_by("pk").first()
    concept = Concept.objects.filter(space=space).order_by("pk").first()
    example = Example.objects.filter(space=space).order_by("pk").first()
    thread = Thread.objects.filter(space=space).order_by("-pk").first()
    member = Membership.objects.filter(space=space).exclude(role="owner").first()
    label = space.schema.label_names[0]
    urls = [
        "/",
        "/notifications/",
        f"{s}/",
        f"{s}/teach/",
        f"{s}/examples/",
        f"{s}/examples/?label={label}",
        f"{s}/examples/?page=20",
        f"{s}/playground/",
        f"{s}/cases/",
        f"{s}/cases/coverage/",
        f"{s}/practice/",
        f"{s}/members/",
        f"{s}/review/",
        f"{s}/keys/",
        f"{s}/settings/",
        f"{s}/contradictions/",
        f"{s}/contradictions/?group=teaching",
        f"{s}/contradictions/?kind=rule_example",
        f"{s}/threads/",
        f"{s}/contributors/",
        f"{s}/evaluation/",
        f"{s}/audit/",
    ]
    if rule:
        urls += [f"{s}/t/rule/{rule.pk}/", f"{s}/t/rule/{rule.pk}/disputes/"]
    if concept:
        urls.append(f"{s}/t/concept/{concept.pk}/")
    if example:
        urls.append(f"{s}/t/example/{example.pk}/")
    if thread:
        urls.append(f"{s}/threads/{thread.pk}/")
    if member:
        urls.append(f"{s}/members/{member.user.username}/")
    return urls


def fetch(client, url: str) -> tuple[int, float, float, int, int]:
    """(status, wall s, CPU s, bytes, rows) of one GET."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    content = response.content
    return (
        response.status_code,
        time.perf_counter() - wall,
        time.process_time() - cpu,
        len(content),
        len(ROW.findall(content)),
    )


def crawl(space, owner, repeat: int) -> list[dict]:
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    client.force_login(owner)
    cache.clear()
    found = []
    for url in pages(space):
        status, cold_wall, _, size, rows = fetch(client, url)
        warm = [fetch(client, url) for _ in range(repeat)]
        found.append(
            {
                "url": url.replace(f"/spaces/{space.slug}", "…"),
                "status": status,
                "cold_ms": cold_wall * 1000,
                "wall_ms": median([w[1] for w in warm]) * 1000,
                "cpu_ms": median([w[2] for w in warm]) * 1000,
                "kb": size / 1024,
                "rows": rows,
            }
        )
    return found


def report(size: str, found: list[dict]) -> None:
    print(f"\n| {size}: page | status | first (ms) | wall p50 (ms) | CPU p50 (ms) | KB | rows |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for page in found:
        flag = " **long**" if page["rows"] > ROWS_READ else ""
        print(
            f"| `{page['url']}` | {page['status']} | {page['cold_ms']:.0f} | "
            f"{page['wall_ms']:.0f} | {page['cpu_ms']:.0f} | {page['kb']:.0f} | "
            f"{page['rows']}{flag} |"
        )
    errors = [p["url"] for p in found if p["status"] >= 500]
    long = [p["url"] for p in found if p["rows"] > ROWS_READ]
    slowest = max(found, key=lambda p: p["cpu_ms"])
    print(
        f"\n{size}: {len(found)} pages, {len(errors)} server errors {errors or ''}, "
        f"{len(long)} listing more than {ROWS_READ} rows {long or ''}; slowest "
        f"`{slowest['url']}` {slowest['cpu_ms']:.0f} ms CPU (load {load()})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="demo,M")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pool", type=int, default=10_000, help="cases in M's pool")
    args = parser.parse_args()
    _harness.in_process("pages", CELERY_TASK_ALWAYS_EAGER="false")
    for size in args.sizes.split(","):
        print(f"{size}: seeding (load {load()})")
        space, owner = seed_demo() if size == "demo" else seed_m(args.pool)
        report(size, crawl(space, owner, args.repeat))


if __name__ == "__main__":
    main()
