"""Threads, posts and resolutions: where the community argues in the open."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone

from teaching.models import Space


class ThreadStatus(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"
    APPEALED = "appealed"  # reopened by an appeal, waiting for a second moderator


class Thread(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="threads")
    title = models.CharField(max_length=500)
    status = models.CharField(
        max_length=16, choices=ThreadStatus.choices, default=ThreadStatus.OPEN
    )
    teachings = models.JSONField(default=list)  # [{"type", "id"}] the thread is about
    opened_by = models.ForeignKey(  # null: opened by the consensus check
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assigned_to = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    participants = models.ManyToManyField(
        django_settings.AUTH_USER_MODEL, blank=True, related_name="threads"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    supports = models.JSONField(default=list)  # teaching refs this post argues for
    expertise = models.CharField(max_length=16)  # the author's level when posting
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Resolution(models.Model):
    """A moderator's decision on a thread; an appeal can lead to a second one."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="resolutions")
    outcome = models.CharField(max_length=16)  # prefer | precedence | scope | merge | dismiss
    keep = models.JSONField(default=list)
    retire = models.JSONField(default=list)
    order = models.JSONField(default=list)
    note = models.TextField()
    decided_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    teaching_revision = models.PositiveBigIntegerField(null=True, blank=True)
    # What the decision did: {"retired": [ref], "restored": [ref], "rewritten": [ref],
    # "precedences": [[winner, loser]], "edits": [{type, id, revision, action, author}]}
    changes = models.JSONField(default=dict)
    # The ids of the contradictions this resolution decided (closed): an appeal reopens
    # exactly these, and the thread's other contradictions were left as they were.
    contradictions = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class Appeal(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="appeals")
    resolution = models.OneToOneField(Resolution, on_delete=models.CASCADE, related_name="appeal")
    author = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)


class NotificationKind(models.TextChoices):
    DISPUTED = "disputed"  # a teaching of yours entered a contradiction
    THREAD = "thread"  # someone opened a thread about your teaching
    POST = "post"  # someone posted in a thread about your teaching or that you joined
    RESOLUTION = "resolution"  # a moderator resolved a thread that touches you
    APPEAL = "appeal"  # an appeal reopened a thread you decided, were assigned or are in
    REVIEW = "review"  # a trusted member endorsed or rejected a teaching you proposed
    VERSION = "version"  # a model version changed answers your teachings decide


class Notification(models.Model):
    """One item of a member's in-app inbox.

    Most items are grouped (``group``, e.g. ``disputes:rule:41`` or ``thread:12``): one row
    per member and group, updated as more events arrive — ``count`` new ones since the
    member last read it — instead of one row per event (``community/services/notifications.py``).
    ``data["told"]`` remembers the events already folded in, so an event told twice counts
    once. An ungrouped row with a ``key`` is idempotent the same way.
    ``visible_at``: when the item shows in the inbox (later for a daily digest).
    """

    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    thread = models.ForeignKey(
        Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    message = models.TextField()
    data = models.JSONField(default=dict)
    key = models.CharField(max_length=200, blank=True, default="")
    group = models.CharField(max_length=200, blank=True, default="")
    count = models.PositiveIntegerField(default=1)  # events folded in since last read
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now)  # the last event folded in
    visible_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)  # last (re)opened unread

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], condition=~models.Q(key=""), name="one_notification_per_key"
            ),
            models.UniqueConstraint(
                fields=["user", "group"],
                condition=~models.Q(group=""),
                name="one_notification_per_group",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_inbox"),
            models.Index(fields=["user", "-updated_at"], name="notification_recent"),
        ]


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate"  # an item shows as soon as its first event arrives
    DAILY = "daily"  # new items wait for the member's daily digest hour


class NotificationSettings(models.Model):
    """A member's inbox settings (absent: immediate)."""

    user = models.OneToOneField(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_settings",
    )
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.IMMEDIATE)
    digest_hour = models.PositiveSmallIntegerField(default=7)  # UTC hour the digest shows
    updated_at = models.DateTimeField(auto_now=True)


class AuditAction(models.TextChoices):
    RESOLVE = "resolve"
    APPEAL = "appeal"
    ROLLBACK = "rollback"
    ENDORSE = "endorse"
    REJECT = "reject"
    MEMBER_UPDATE = "member_update"
    API_KEY_CREATE = "api_key_create"
    API_KEY_REVOKE = "api_key_revoke"


class AuditEntry(models.Model):
    """One decision about people or teachings: who took it, on what, and why."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    target = models.JSONField(default=dict)  # {"type": "member"|"thread"|"rule"|..., ...}
    note = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["space", "created_at"], name="audit_space_time")]
