"""What every page's header needs: the signed-in member's unread inbox count."""

from __future__ import annotations

from django.http import HttpRequest

from community.selectors.activity import unread_count


def inbox(request: HttpRequest) -> dict[str, int]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_unread": unread_count(user=user)}
