"""How many inbox items a member gets in a busy day.

A generated community of 30 members (the synthetic world's expertise mix, a moderator and
an owner among them) teaches 500 rules and 5,000 examples over a simulated day, a round's
share at a time (6 rounds: one every 4 hours); after each round the real consensus check runs (stores contradictions,
opens the dispute threads, tells the authors), some thread participants post, and trusted
members endorse or reject a share of the novices' proposals. Half the members read their
inbox at noon, the others never. Printed per member: events told (what one item per event
would have shown) and the distinct inbox items they saw in the day (grouped; an item read
at noon and opened again later counts once). Runs in-process on SQLite in a throwaway data
dir (or the DATABASE_URL given).

    .venv/bin/python bench/inbox.py [--rounds 6] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MEMBERS = 30
RULES, CONCEPTS, EXAMPLES = 500, 20, 5_000


def _community(snapshot):
    """The space and its 30 members; the synthetic authors are dealt out among them."""
    from django.contrib.auth import get_user_model

    from teaching.models import Membership, Role, Space, TrainingState

    User = get_user_model()
    tag = random.Random().randrange(10**6)
    users = [User.objects.create_user(username=f"m{i:02d}-{tag}") for i in range(MEMBERS)]
    authors = sorted({r.author for r in snapshot.rules} | {e.author for e in snapshot.examples})
    expertise = {r.author: r.expertise for r in snapshot.rules}
    expertise.update({e.author: e.expertise for e in snapshot.examples})
    member_of = {name: users[i % MEMBERS] for i, name in enumerate(authors)}
    level = {member_of[name].pk: expertise[name] for name in authors}
    space = Space.objects.create(
        slug=f"inbox-{tag}",
        name="Inbox bench",
        features=[f.as_dict() for f in snapshot.schema.features],
        labels=[{"name": label.name} for label in snapshot.schema.labels],
        settings={"review_novice_teachings": True},
        teaching_revision=1,
        created_by=users[0],
    )
    roles = {0: Role.OWNER, 1: Role.MODERATOR}
    Membership.objects.bulk_create(
        Membership(
            space=space,
            user=user,
            role=roles.get(i, Role.TEACHER),
            expertise="master" if i in roles else level.get(user.pk, "novice"),
        )
        for i, user in enumerate(users)
    )
    TrainingState.objects.create(space=space)
    return space, users, member_of


def _teach_round(space, snapshot, member_of, rule_part, example_part, concepts: bool) -> None:
    """Bulk-create one round's teachings (novices' proposed) and bump the revision."""
    from django.db.models import F

    from teaching.models import Concept, Example, Membership, Rule, Space, Status

    novices = set(
        Membership.objects.filter(space=space, expertise="novice").values_list("user_id", flat=True)
    )

    def status(user):
        return Status.PROPOSED if user.pk in novices else Status.ACTIVE

    common = {"space": space, "revision": 1}
    if concepts:
        Concept.objects.bulk_create(
            Concept(name=c.name, definition=c.condition.text, author=member_of.get(c.author) or
                    next(iter(member_of.values())), status=Status.ACTIVE, **common)
            for c in snapshot.concepts
        )  # fmt: skip
    Rule.objects.bulk_create(
        Rule(condition=r.condition.text, label=r.label, author=member_of[r.author],
             status=status(member_of[r.author]), **common)
        for r in rule_part
    )  # fmt: skip
    Example.objects.bulk_create(
        (
            Example(features=e.features, label=e.label, author=member_of[e.author],
                    status=status(member_of[e.author]), **common)
            for e in example_part
        ),
        batch_size=1000,
    )  # fmt: skip
    Space.objects.filter(pk=space.pk).update(teaching_revision=F("teaching_revision") + 1)


def _talk(space, rng: random.Random, posts: int) -> int:
    """Participants of open threads post (each post tells the thread's others)."""
    from community.models import Thread
    from community.services.posts import post_create

    threads = list(Thread.objects.filter(space=space, status="open"))
    told = 0
    for thread in rng.sample(threads, min(posts, len(threads))):
        people = list(thread.participants.all())
        if people:
            post_create(thread=thread, user=rng.choice(people), body="I think the other one.")
            told += 1
    return told


def _review(space, users, rng: random.Random, endorse: int, reject: int) -> int:
    from teaching.models import Membership, Rule, Status
    from teaching.services import trust

    trusted = [
        m.user
        for m in Membership.objects.filter(space=space, expertise__in=("expert", "master"))
        .select_related("user")
    ]  # fmt: skip
    proposed = list(Rule.objects.filter(space=space, status=Status.PROPOSED).order_by("?"))
    done = 0
    for i, rule in enumerate(proposed[: endorse + reject]):
        reviewer = rng.choice([u for u in trusted if u.pk != rule.author_id])
        review = trust.teaching_endorse if i < endorse else trust.teaching_reject
        review(space=space, kind="rule", teaching_id=rule.pk, user=reviewer, note="")
        done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6, help="consensus checks in the day")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from bench import _harness
    from bench._harness import load

    _harness.in_process("inbox", CELERY_TASK_ALWAYS_EAGER="false")
    from bench.synthetic import synthetic_snapshot
    from community.models import Notification
    from community.services.notifications import notifications_mark_read
    from consensus.models import Contradiction
    from consensus.services import consensus_check

    rng = random.Random(args.seed)
    _, snapshot = synthetic_snapshot((RULES, CONCEPTS, EXAMPLES), seed=args.seed)
    space, users, member_of = _community(snapshot)
    rules, examples = list(snapshot.rules), list(snapshot.examples)
    readers = users[::2]  # read everything at noon; the others never read
    check_cpu = []
    started = time.process_time()
    rounds, hours = args.rounds, 24 // args.rounds
    for step in range(rounds):
        r0, r1 = step * len(rules) // rounds, (step + 1) * len(rules) // rounds
        e0, e1 = step * len(examples) // rounds, (step + 1) * len(examples) // rounds
        _teach_round(space, snapshot, member_of, rules[r0:r1], examples[e0:e1], step == 0)
        cpu = time.process_time()
        consensus_check(space_id=space.pk)
        check_cpu.append(time.process_time() - cpu)
        _talk(space, rng, posts=6 * hours)  # six posts an hour
        _review(space, users, rng, endorse=4 * hours, reject=hours)
        if step == rounds // 2 - 1:
            for user in readers:
                notifications_mark_read(user=user)
        print(f"hour {(step + 1) * hours:2d}: {Contradiction.objects.filter(space=space).count():6d} "
              f"contradictions, check {check_cpu[-1]:.2f} s CPU", flush=True)  # fmt: skip
    total_cpu = time.process_time() - started

    rows = []
    for user in users:
        # Every item was opened during the simulated day: an item read at noon and opened
        # again later is one item, its count telling what is new.
        items = Notification.objects.filter(user=user, count__gt=0)
        events = sum(len(n.data.get("told", [])) if n.group else 1 for n in items)
        rows.append((user.username.split("-")[0], user in readers, events, items.count()))
    print(f"\n{'member':8} {'reads':>5} {'events':>7} {'items':>6}")
    for name, reads, events, items in rows:
        print(f"{name:8} {'noon' if reads else 'never':>5} {events:7d} {items:6d}")
    events = [r[2] for r in rows]
    items = [r[3] for r in rows]
    print(
        f"\n{MEMBERS} members, {RULES} rules, {EXAMPLES} examples over 24 h in {rounds} rounds; "
        f"{Contradiction.objects.filter(space=space).count()} contradictions stored"
    )
    print(
        f"events told per member: median {statistics.median(events):.0f}, max {max(events)}; "
        f"distinct inbox items per member in the day: median {statistics.median(items):.0f}, max {max(items)} "
        f"(bound 20: {'ok' if max(items) <= 20 else 'EXCEEDED'})"
    )
    print(
        f"consensus check CPU per round: median {statistics.median(check_cpu):.2f} s; "
        f"whole day {total_cpu:.1f} s CPU; load {load()}"
    )


if __name__ == "__main__":
    main()
