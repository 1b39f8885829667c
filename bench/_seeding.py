"""Spaces seeded fast for the benchmarks: the synthetic world of a size preset
(bench/sizes.py, bench/synthetic.py) bulk-created as one space's active teachings, with the
owner's API token and an API key — no revisions recorded, no consensus run.

    seeded = seed_space("M")   # after Django is set up (bench/_harness.py: in_process, BenchEnv)

The Django imports are inside the functions: the scripts import this module before they set
Django up.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from bench.sizes import SIZES


@dataclass
class Seeded:
    slug: str
    space_id: int
    token: str  # the owner's API token
    api_key: str
    world: object  # bench.synthetic.World
    rule_ids: list[int]
    seconds: float


def seed_space(size: str, seed: int = 0) -> Seeded:
    """A space of ``size`` with its teachings bulk-created (no revisions, no consensus run)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from bench.synthetic import synthetic_snapshot
    from community.services.accounts import token_create
    from teaching.models import Space, SpaceApiKey, TrainingState

    started = time.perf_counter()
    world, snapshot = synthetic_snapshot(SIZES[size], seed=seed)
    tag = uuid.uuid4().hex[:6]
    with transaction.atomic():
        owner = get_user_model().objects.create_user(username=f"bench-owner-{tag}")
        space = Space.objects.create(
            slug=f"bench-{size.lower()}-{tag}",
            name=f"Benchmark {size}",
            features=[f.as_dict() for f in snapshot.schema.features],
            labels=[{"name": label.name} for label in snapshot.schema.labels],
            settings={"review_novice_teachings": False},
            teaching_revision=1,
            created_by=owner,
        )
        users = _members(space, owner, snapshot, tag)
        rules = _teachings(space, owner, snapshot, users)
        TrainingState.objects.create(space=space)
        token = token_create(user=owner)
        _, api_key = SpaceApiKey.objects.create_key(space=space, name="bench", created_by=owner)
    return Seeded(
        slug=space.slug,
        space_id=space.pk,
        token=token,
        api_key=api_key,
        world=world,
        rule_ids=[row.pk for row in rules],
        seconds=time.perf_counter() - started,
    )


def _members(space, owner, snapshot, tag: str) -> dict:
    """A user per author of ``snapshot`` (named ``<author>-<tag>``), each a member of
    ``space`` at the author's expertise, the owner its owner; the users by author name."""
    from django.contrib.auth import get_user_model

    from teaching.models import Membership, Role

    User = get_user_model()
    names = sorted(
        {r.author for r in snapshot.rules}
        | {c.author for c in snapshot.concepts}
        | {e.author for e in snapshot.examples}
    )
    User.objects.bulk_create([User(username=f"{name}-{tag}", password="!") for name in names])
    users = {
        u.username.removesuffix(f"-{tag}"): u
        for u in User.objects.filter(username__endswith=f"-{tag}")
    }
    expertise = {r.author: r.expertise for r in snapshot.rules}
    expertise.update({e.author: e.expertise for e in snapshot.examples})
    Membership.objects.bulk_create(
        [Membership(space=space, user=owner, role=Role.OWNER, expertise="master")]
        + [
            Membership(space=space, user=users[name], expertise=expertise.get(name, "novice"))
            for name in names
        ]
    )
    return users


def _teachings(space, owner, snapshot, users: dict) -> list:
    """The concepts, rules, examples and precedences of ``snapshot``, active at revision 1;
    the rule rows in the snapshot's order."""
    from teaching.models import Concept, Example, Rule, RulePrecedence, Status

    common = {"space": space, "status": Status.ACTIVE, "revision": 1}
    Concept.objects.bulk_create(
        [
            Concept(name=c.name, definition=c.condition.text, author=users[c.author], **common)
            for c in snapshot.concepts
        ]
    )
    rules = Rule.objects.bulk_create(
        [
            Rule(
                condition=r.condition.text,
                label=r.label,
                author=users[r.author],
                disputed=r.disputed,
                **common,
            )
            for r in snapshot.rules
        ]
    )
    rule_pk = {spec.id: row.pk for spec, row in zip(snapshot.rules, rules, strict=True)}
    Example.objects.bulk_create(
        [
            Example(
                features=e.features,
                label=e.label,
                author=users[e.author],
                refutes_id=rule_pk.get(e.refutes) if e.refutes is not None else None,
                evaluation=e.evaluation,
                disputed=e.disputed,
                **common,
            )
            for e in snapshot.examples
        ],
        batch_size=2000,
    )
    RulePrecedence.objects.bulk_create(
        [
            RulePrecedence(
                space=space,
                winner_id=rule_pk[p.winner],
                loser_id=rule_pk[p.loser],
                created_by=owner,
            )
            for p in snapshot.precedences
        ]
    )
    return rules
