"""Who may do what in a space. Each ``check_*`` returns the membership or raises."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from mola.errors import NotAllowed
from teaching.models import Membership, Space, Teaching


def membership_of(*, space: Space, user) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(space=space, user=user).first()


VISIBILITIES = ("public", "members")


def check_reader(*, space: Space, user) -> Membership | None:
    """Who may read a space (its teachings, threads, contributors, contradictions, members):
    anyone signed in when it is ``public``, only its members when it is ``members``. The
    model, the audit log and the case pool are always for members (and the model for the
    space's API keys)."""
    membership = membership_of(space=space, user=user)
    if membership is None and space.visibility != "public":
        raise NotAllowed(
            f"Only members of {space.slug} can see it; join the space first.",
            code="not_a_member",
        )
    return membership


def readable_spaces(*, spaces: QuerySet[Space], user) -> QuerySet[Space]:
    """``spaces`` narrowed to those ``user`` may read (see ``check_reader``)."""
    public = Q(settings__visibility="public") | Q(settings__visibility__isnull=True)
    if user is None or not user.is_authenticated:
        return spaces.filter(public)
    mine = Membership.objects.filter(user=user).values("space_id")
    return spaces.filter(public | Q(pk__in=mine))


def check_member(*, space: Space, user) -> Membership:
    membership = membership_of(space=space, user=user)
    if membership is None:
        raise NotAllowed(
            f"Only members of {space.slug} can do this; join the space first.", code="not_a_member"
        )
    return membership


def check_moderator(*, space: Space, user) -> Membership:
    membership = check_member(space=space, user=user)
    if not membership.moderates:
        raise NotAllowed("Only moderators and owners can do this.", code="not_a_moderator")
    return membership


def check_owner(*, space: Space, user) -> Membership:
    membership = check_member(space=space, user=user)
    if membership.role != "owner":
        raise NotAllowed("Only the space's owners can do this.", code="not_an_owner")
    return membership


def check_trusted(*, space: Space, user) -> Membership:
    """Experts, masters, moderators and owners review (endorse or reject) teachings."""
    membership = check_member(space=space, user=user)
    if not membership.is_trusted:
        raise NotAllowed(
            "Only expert or master members and moderators review teachings.", code="not_trusted"
        )
    return membership


def may_edit(*, teaching: Teaching, membership: Membership | None) -> bool:
    """The author, a moderator or an owner may edit or retire a teaching."""
    return membership is not None and (
        teaching.author_id == membership.user_id or membership.moderates
    )


def check_can_edit(*, teaching: Teaching, user) -> Membership:
    """See ``may_edit``."""
    membership = check_member(space=teaching.space, user=user)
    if not may_edit(teaching=teaching, membership=membership):
        raise NotAllowed(
            "Only the author or a moderator can change this teaching.", code="not_the_author"
        )
    return membership
