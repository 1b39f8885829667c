"""Threads: where members argue a contradiction, or any teachings, out in the open."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from community.models import NotificationKind, Thread, ThreadStatus
from community.selectors.teachings import ref_dict, ref_key, teachings_by_ref
from community.selectors.threads import open_thread_count
from community.services.notifications import notify
from consensus.dispute_threads import DisputeGroup
from consensus.services import contradictions_attach, contradictions_thread_set
from mola.engine.consensus import threads_within_budget
from mola.errors import InvalidInput
from teaching.models import TEACHING_MODELS, Space, Teaching
from teaching.services.access import check_member

MAX_THREAD_TEACHINGS = 50
MAX_OPEN_THREADS = 30  # open threads a consensus check may keep per space (see below)


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


def threads_open_for_disputes(*, space: Space, groups: list[DisputeGroup]) -> None:
    """The threads a consensus check asks for (``disputes_grouped``), most severe first: the
    groups that had a thread keep it, new ones get one while the space has fewer than
    ``MAX_OPEN_THREADS`` open threads (the rest wait in the contradictions queue). Each
    thread is handed its contradictions. Call inside the check's write transaction.

    A kept thread is read with the others in one query and written only when what it holds
    changed, and only the contradictions not on it yet are handed to it: a warm check keeps
    its ~30 threads as they were, and reading, re-adding participants and re-handing each
    one its contradictions was ~0.1 s of every check at M."""
    kept = [g.thread_id for g in groups if g.thread_id is not None]
    chosen = threads_within_budget(
        groups,
        open_elsewhere=open_thread_count(space=space, excluding=kept),
        max_open=MAX_OPEN_THREADS,
    )
    ids = [group.thread_id for group in chosen if group.thread_id is not None]
    threads = Thread.objects.filter(space=space, pk__in=ids).in_bulk() if ids else {}
    for group in chosen:
        thread = _dispute_thread(
            space=space,
            thread=threads.get(group.thread_id),
            title=group.title,
            teachings=group.teachings,
        )
        keys = group.keys_off(thread.pk)
        if keys:
            contradictions_thread_set(space=space, keys=keys, thread=thread)


def thread_open_for_dispute(
    *, space: Space, thread_id: int | None, title: str, teachings: list[dict[str, Any]]
) -> Thread:
    """The consensus check's thread for one group of disputes about ``teachings``.

    ``thread_id`` names the thread the group had (kept: its teachings brought up to date,
    opened again if it was resolved, since the dispute came back); without it, or when that
    thread is gone, a new thread is opened. The teachings' authors take part either way.
    Call inside the check's write transaction.
    """
    thread = Thread.objects.filter(pk=thread_id, space=space).first() if thread_id else None
    return _dispute_thread(space=space, thread=thread, title=title, teachings=teachings)


def _dispute_thread(
    *, space: Space, thread: Thread | None, title: str, teachings: list[dict[str, Any]]
) -> Thread:
    """``thread_open_for_dispute`` with the kept thread read (None: open a new one). The
    authors join when the thread is new or its teachings changed: a thread's participants
    are never removed, so those of unchanged teachings are in it already."""
    if thread is None:
        thread = Thread.objects.create(space=space, title=title[:500], teachings=teachings)
    elif (
        thread.teachings != teachings
        or thread.status == ThreadStatus.RESOLVED
        or (thread.opened_by_id is None and thread.title != title[:500])
    ):
        moved = thread.teachings != teachings
        thread.teachings = teachings
        if thread.opened_by_id is None:  # the check's own title follows what the thread holds
            thread.title = title[:500]
        if thread.status == ThreadStatus.RESOLVED:
            thread.status = ThreadStatus.OPEN  # the dispute came back: talk again
        thread.save(update_fields=["teachings", "title", "status", "updated_at"])
        if not moved:
            return thread
    else:
        return thread
    thread.participants.add(*_authors(teachings))
    return thread


def _authors(teachings: list[dict[str, Any]]) -> set[int]:
    ids: set[int] = set()
    for kind, model in TEACHING_MODELS.items():
        pks = [t["id"] for t in teachings if t["type"] == kind]
        if pks:
            ids |= set(model.objects.filter(pk__in=pks).values_list("author_id", flat=True))
    return ids


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
