"""Posts in a thread; a post may state the author's position (the teachings they support)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from community.models import NotificationKind, Post, Thread
from community.selectors.teachings import ref_dict, ref_key, teachings_by_ref
from mola.errors import InvalidInput
from teaching.services.access import check_member

MAX_BODY = 20_000


def post_create(
    *,
    thread: Thread,
    user,
    body: str,
    supports: list[dict[str, Any]] | None = None,
    notify_others: bool = True,
) -> Post:
    """A member of the thread's space posts; ``supports`` (teachings of the thread) becomes
    their position on it, replacing any earlier one.

    Side effects: the poster joins the thread's participants; the other participants and
    the authors of its teachings are told (unless ``notify_others`` is False).
    """
    membership = check_member(space=thread.space, user=user)
    body = body.strip()
    if not body:
        raise InvalidInput("Write something.", code="blank", field="body")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"At most {MAX_BODY} characters.", code="too_long", field="body")
    in_thread = {ref_key(ref) for ref in thread.teachings}
    supported = [ref_key(ref) for ref in supports or []]
    outside = [f"{kind} #{pk}" for kind, pk in supported if (kind, pk) not in in_thread]
    if outside:
        raise InvalidInput(
            f"This thread is not about {', '.join(outside)}; support its own teachings.",
            code="not_in_thread",
            field="supports",
        )
    with transaction.atomic():
        post = Post.objects.create(
            thread=thread,
            author=user,
            body=body,
            supports=[ref_dict(ref) for ref in dict.fromkeys(supported)],
            expertise=membership.expertise,
        )
        thread.participants.add(user.pk)
        thread.save(update_fields=["updated_at"])
        if notify_others:
            from community.services.notifications import notify

            authors = {
                t.author_id
                for t in teachings_by_ref(space=thread.space, refs=thread.teachings).values()
            }
            participants = set(thread.participants.values_list("pk", flat=True))
            notify(
                space=thread.space,
                user_ids=authors | participants,
                kind=NotificationKind.POST,
                message=f"{user.username} posted in “{thread.title}”.",
                thread=thread,
                data={"post": post.pk},
                exclude=[user.pk],
            )
    return post
