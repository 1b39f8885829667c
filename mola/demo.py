"""Seed the demo community through the same services the API uses (so it has history)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from mola import demo_data
from teaching.models import Space
from teaching.services import concepts, examples, rules, spaces, trust

DEMO_SLUG = "volleyball-serve"
DEMO_PASSWORD = "mola-demo-pass"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    expertise: str
    description: str


DEMO_USERS = [DemoUser(*row) for row in demo_data.USERS]


def _random_row(rng: random.Random) -> dict:
    """A filmed serve: mostly sound, with the faults coaches see most often."""
    return {
        "toss_height_cm": round(rng.triangular(15, 145, 75), 1),
        "toss_forward_cm": round(rng.triangular(-30, 55, 25), 1),
        "elbow_angle_deg": round(rng.triangular(75, 178, 140), 1),
        "contact_height_cm": round(rng.uniform(170, 310), 1),
        "approach_steps": rng.randint(0, 4),
        "serve_type": rng.choice(["float", "jump", "jump_float", "underhand"]),
        "stance": rng.choice(["square", "staggered", "open"]),
        "wrist_snap": rng.random() < 0.3,
        "eyes_on_ball": rng.random() < 0.93,
        "fatigued": rng.random() < 0.2,
    }


def demo_examples(n: int = 300, seed: int = 7) -> list[tuple[str, dict]]:
    """(author, example) pairs: labelled by the hidden truth, a few mislabelled, 10 % held
    out for evaluation."""
    rng = random.Random(seed)
    coaches = ["anna", "ben", "carla", "dmitri", "eva", "farid"]
    mislabel_rate = {
        "anna": 0.0,
        "ben": 0.02,
        "carla": 0.05,
        "dmitri": 0.05,
        "eva": 0.15,
        "farid": 0.15,
    }
    labels = [label["name"] for label in demo_data.LABELS]
    pairs = []
    for index in range(n):
        author = coaches[index % len(coaches)]
        row = _random_row(rng)
        label = demo_data.true_cue(row)
        if rng.random() < mislabel_rate[author]:
            label = rng.choice([x for x in labels if x != label])
        pairs.append(
            (author, {"features": row, "label": label, "note": "", "evaluation": index % 10 == 0})
        )
    return pairs


def seed_demo() -> str:
    """Create the demo community if it is missing. Running it again changes nothing."""
    User = get_user_model()
    if Space.objects.filter(slug=DEMO_SLUG).exists():
        return f"{DEMO_SLUG} exists already (nothing changed)"
    with transaction.atomic():
        users = {}
        for demo_user in DEMO_USERS:
            user, created = User.objects.get_or_create(username=demo_user.username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            users[demo_user.username] = user
        space = spaces.space_create(
            user=users["olga"],
            slug=DEMO_SLUG,
            name="Volleyball serve cues",
            description="Which cue should a coach give after a serve? Coaches teach the "
            "model with concepts, rules and filmed serves.",
            features=demo_data.FEATURES,
            labels=demo_data.LABELS,
        )
        for demo_user in DEMO_USERS[1:]:
            spaces.member_join(space=space, user=users[demo_user.username])
            spaces.member_update(
                space=space,
                user=users["olga"],
                username=demo_user.username,
                role=demo_user.role,
                expertise=demo_user.expertise,
            )
        for author, name, definition, description in demo_data.CONCEPTS:
            concepts.concept_create(
                space=space,
                user=users[author],
                name=name,
                definition=definition,
                description=description,
            )
        created_rules = []
        for author, condition, label, rationale in demo_data.RULES:
            rule, _ = rules.rule_create(
                space=space,
                user=users[author],
                condition=condition,
                label=label,
                rationale=rationale,
            )
            created_rules.append(rule)
        by_author: dict[str, list[dict]] = {}
        for author, example in demo_examples():
            by_author.setdefault(author, []).append(example)
        for author, items in by_author.items():
            examples.examples_create(space=space, user=users[author], items=items)
        # Mona has reviewed some of the novices' rules; the rest wait in the queue.
        for rule in created_rules:
            if rule.status == "proposed" and rule.condition in (
                "eyes_off and high_toss",
                "toss_forward_cm < -20 and eyes_on_ball",
            ):
                trust.teaching_endorse(
                    space=space, kind="rule", teaching_id=rule.pk, user=users["mona"]
                )
    return (
        f"{DEMO_SLUG}: {len(DEMO_USERS)} members, {len(demo_data.CONCEPTS)} concepts, "
        f"{len(demo_data.RULES)} rules, {sum(len(v) for v in by_author.values())} examples"
    )
