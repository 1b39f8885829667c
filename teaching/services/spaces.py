"""Spaces, their schemas and their members."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from mola.engine.language import ConditionError, compile_condition
from mola.engine.schema import Schema, schema_problems
from mola.engine.table import validate_row
from mola.errors import Conflict, InvalidInput, NotAllowed, NotFound
from teaching.language import compile_concepts, live_concept_definitions
from teaching.models import (
    LIVE_STATUSES,
    Concept,
    Example,
    Expertise,
    Membership,
    Role,
    Rule,
    Space,
)
from teaching.services.access import VISIBILITIES, check_member, check_moderator, check_owner
from teaching.services.events import teaching_changed
from teaching.services.revisions import revision_bump, space_lock
from teaching.signals import decision_record

DEFAULT_SETTINGS: dict[str, Any] = {"review_novice_teachings": True}


def _check_settings(settings: dict) -> None:
    visibility = settings.get("visibility", "public")
    if visibility not in VISIBILITIES:
        raise InvalidInput(
            f"visibility is one of {', '.join(VISIBILITIES)}.",
            code="invalid_choice",
            field="settings.visibility",
        )


def _check_schema(features: list[dict], labels: list[dict]) -> None:
    problems = schema_problems(features, labels)
    if problems:
        raise InvalidInput(problems=problems)


def space_create(
    *,
    user,
    slug: str,
    name: str,
    features: list[dict],
    labels: list[dict],
    description: str = "",
    settings: dict | None = None,
) -> Space:
    """Create a space; its creator becomes its owner (and is trusted as a master)."""
    _check_schema(features, labels)
    _check_settings(settings or {})
    try:
        with transaction.atomic():
            space = Space.objects.create(
                slug=slug,
                name=name,
                description=description,
                features=features,
                labels=labels,
                settings={**DEFAULT_SETTINGS, **(settings or {})},
                created_by=user,
            )
            Membership.objects.create(
                space=space, user=user, role=Role.OWNER, expertise=Expertise.MASTER
            )
    except IntegrityError as exc:
        raise Conflict(
            f"A space {slug!r} exists already.", code="slug_taken", field="slug"
        ) from exc
    return space


def space_update(*, space: Space, user, **changes: Any) -> Space:
    """Change name, description, settings (moderators) or the schema (owners).

    A schema change that would break a live teaching is refused with 409 listing them.
    """
    check_moderator(space=space, user=user)
    schema_change = "features" in changes or "labels" in changes
    if schema_change:
        check_owner(space=space, user=user)
    with transaction.atomic():
        space = space_lock(space_id=space.pk)
        if schema_change:
            features = changes.get("features", space.features)
            labels = changes.get("labels", space.labels)
            _check_schema(features, labels)
            broken = _teachings_broken_by(space, Schema.from_dicts(features, labels))
            if broken:
                raise Conflict(
                    "The schema change would break teachings that depend on it.",
                    code="schema_in_use",
                    field="features",
                    teachings=broken,
                )
            space.features, space.labels = features, labels
        for field in ("name", "description"):
            if field in changes:
                setattr(space, field, changes[field])
        if "settings" in changes:
            _check_settings(changes["settings"])
            space.settings = {**space.settings, **changes["settings"]}
        space.save()
        if schema_change:
            revision = revision_bump(space=space)  # every compiled condition may change meaning
            teaching_changed(space_id=space.pk, revision=revision, refs=[])
    return space


def _teachings_broken_by(space: Space, schema: Schema) -> list[dict[str, Any]]:
    """Live teachings that would not compile or validate under ``schema``."""
    broken: list[dict[str, Any]] = []
    definitions = live_concept_definitions(space)
    concepts = compile_concepts(schema, definitions)
    for concept in Concept.objects.filter(space=space, status__in=LIVE_STATUSES):
        if concept.name not in concepts:
            broken.append({"type": "concept", "id": concept.pk, "name": concept.name})
    labels = set(schema.label_names)
    for rule in Rule.objects.filter(space=space, status__in=LIVE_STATUSES):
        try:
            compile_condition(rule.condition, schema, concepts)
            ok = rule.label in labels
        except ConditionError:
            ok = False
        if not ok:
            broken.append({"type": "rule", "id": rule.pk})
    for example in Example.objects.filter(space=space, status__in=LIVE_STATUSES):
        if validate_row(schema, example.features) or example.label not in labels:
            broken.append({"type": "example", "id": example.pk})
    return broken


def member_join(*, space: Space, user) -> Membership:
    membership, created = Membership.objects.get_or_create(space=space, user=user)
    if not created:
        raise Conflict("You are a member already.", code="already_member")
    return membership


def member_update(
    *,
    space: Space,
    user,
    username: str,
    role: str | None = None,
    expertise: str | None = None,
) -> Membership:
    """Moderators set expertise (verifying it) and make teachers moderators; owners
    alone make or unmake owners, and a space always keeps one owner."""
    actor = check_moderator(space=space, user=user)
    membership = (
        Membership.objects.filter(space=space, user__username=username)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise NotFound(f"{username} is not a member of {space.slug}.", field="username")
    with transaction.atomic():
        if role is not None and role != membership.role:
            touches_owner = Role.OWNER in (role, membership.role)
            if touches_owner and actor.role != Role.OWNER:
                raise NotAllowed("Only owners make or unmake owners.", code="not_an_owner")
            if (
                membership.role == Role.OWNER
                and not Membership.objects.filter(space=space, role=Role.OWNER)
                .exclude(pk=membership.pk)
                .exists()
            ):
                raise Conflict("A space needs at least one owner.", code="last_owner", field="role")
            membership.role = role
        if expertise is not None:
            membership.expertise = expertise
            membership.expertise_verified_by = user
        membership.save()
        decision_record(
            space=space,
            actor=user,
            action="member_update",
            target={"type": "member", "username": username},
            data={"role": role, "expertise": expertise},
        )
    return membership


def space_get(*, slug: str) -> Space:
    space = Space.objects.filter(slug=slug).first()
    if space is None:
        raise NotFound(f"No space {slug!r}.", field="slug")
    return space


__all__ = [
    "check_member",
    "member_join",
    "member_update",
    "space_create",
    "space_get",
    "space_update",
]
