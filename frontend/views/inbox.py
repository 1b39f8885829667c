"""The inbox page: grouped items, each with a link; mark read (one, all); the settings."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from community.models import Notification
from community.selectors import activity
from community.services import notifications as inbox
from mola.errors import MolaError

PER_PAGE = 25


def notification_link(item: Notification, username: str) -> str:
    """Where an item leads: its thread; else the contradictions it counts (filtered), the
    teaching, the threads or the member's teachings; else the space."""
    slug = item.space.slug
    if item.thread_id:
        return reverse("frontend:thread", args=[slug, item.thread_id])
    target = item.data.get("target") or {}
    if "contradictions" in target:
        query = urlencode({**target["contradictions"], "status": "all"})
        return f"{reverse('frontend:contradictions', args=[slug])}?{query}"
    if "teaching" in target:
        ref = target["teaching"]
        return reverse("frontend:teaching", args=[slug, ref["type"], ref["id"]])
    if "threads" in target:
        return reverse("frontend:threads", args=[slug])
    if "member" in target:
        return reverse("frontend:member", args=[slug, target["member"] or username])
    return reverse("frontend:dashboard", args=[slug])


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()] or None
        marked = inbox.notifications_mark_read(user=request.user, ids=ids)
        messages.success(request, f"Marked {marked} read.")
        return redirect(request.POST.get("next") or "frontend:notifications")
    unread_only = request.GET.get("unread") == "true"
    queryset = activity.notification_list(user=request.user, unread=True if unread_only else None)
    listing = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    for item in listing:
        item.link = notification_link(item, request.user.username)
    return render(
        request,
        "frontend/notifications.html",
        {
            "notifications": listing,
            "unread_only": unread_only,
            "query": "unread=true" if unread_only else "",
            "settings": inbox.notification_settings_get(user=request.user),
            "hours": range(24),
        },
    )


@login_required
@require_http_methods(["GET"])
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow an item's link, marking it read on the way."""
    item = get_object_or_404(
        Notification.objects.select_related("space"), pk=notification_id, user=request.user
    )
    inbox.notifications_mark_read(user=request.user, ids=[item.pk])
    return redirect(notification_link(item, request.user.username))


@login_required
@require_POST
def notification_settings(request: HttpRequest) -> HttpResponse:
    hour = request.POST.get("digest_hour", "")
    try:
        inbox.notification_settings_update(
            user=request.user,
            delivery=request.POST.get("delivery") or None,
            digest_hour=int(hour) if hour.strip().lstrip("-").isdigit() else hour or None,
        )
        messages.success(request, "Inbox settings saved.")
    except MolaError as exc:
        messages.error(request, " ".join(p["message"] for p in exc.problems))
    return redirect("frontend:notifications")
