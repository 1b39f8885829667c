"""Threads: where members argue a contradiction, or any teachings, out in the open."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from community.models import NotificationKind, Thread
from community.selectors.teachings import ref_dict, ref_key, teachings_by_ref
from community.services.notifications import notify
from mola.errors import InvalidInput
from teaching.models import Space, Teaching
from teaching.services.access import check_member

MAX_THREAD_TEACHINGS = 50


def thread_teachings_check(
    *, space: Space, refs: list[dict[str, Any]], field: str = "teachings"
) -> dict[tuple[str, int], Teaching]:
    """The teachings ``refs`` name, all of them in ``space``, each once; else 400."""
    keys = [ref_key(ref) for ref in refs]
    if len(set(keys)) != len(keys):
        raise InvalidInput("A teaching is named twice.", code="duplicate", field=field)
    found = teachings_by_ref(space=space, refs=keys)
    missing = [f"{kind} #{pk}" for kind, pk in keys if (kind, pk) not in found]
    if missing:
        raise InvalidInput(
            f"No such teachings in {space.slug}: {', '.join(missing)}.",
            code="unknown_teaching",
            field=field,
        )
    return found


def contradictions_attach(*, thread: Thread) -> int:
    """Give the thread the open contradictions among its teachings that have no thread yet.

    The consensus check opens threads only for severe disputes; a member who opens one by
    hand about a milder one should argue about it, and resolving the thread should close
    it. Returns how many were attached.
    """
    from consensus.models import Contradiction, ContradictionStatus

    mine = {ref_key(ref) for ref in thread.teachings}
    loose = Contradiction.objects.filter(
        space_id=thread.space_id, status=ContradictionStatus.OPEN, thread__isnull=True
    ).only("pk", "teachings")
    ids = [c.pk for c in loose if {ref_key(ref) for ref in c.teachings} <= mine]
    return Contradiction.objects.filter(pk__in=ids).update(thread=thread)


def thread_create(
    *, space: Space, user, title: str, teachings: list[dict[str, Any]], body: str = ""
) -> Thread:
    """A member opens a thread by hand about one or more teachings of the space.

    The opener and the teachings' authors become participants; the authors are told.
    With a ``body`` the opener's first post is written too.
    """
    check_member(space=space, user=user)
    if not teachings:
        raise InvalidInput(
            "Name at least one teaching the thread is about.", code="required", field="teachings"
        )
    if len(teachings) > MAX_THREAD_TEACHINGS:
        raise InvalidInput(
            f"At most {MAX_THREAD_TEACHINGS} teachings per thread.",
            code="too_many",
            field="teachings",
        )
    found = thread_teachings_check(space=space, refs=teachings)
    with transaction.atomic():
        thread = Thread(
            space=space,
            title=title.strip(),
            teachings=[ref_dict(ref_key(ref)) for ref in teachings],
            opened_by=user,
        )
        thread.full_clean()
        thread.save()
        authors = {t.author_id for t in found.values()}
        thread.participants.add(user.pk, *authors)
        contradictions_attach(thread=thread)
        if body.strip():
            from community.services.posts import post_create

            post_create(thread=thread, user=user, body=body, notify_others=False)
        notify(
            space=space,
            user_ids=authors,
            kind=NotificationKind.THREAD,
            message=f"{user.username} opened a thread about your teaching: {thread.title}",
            thread=thread,
            data={"teachings": thread.teachings},
            exclude=[user.pk],
        )
    return thread
