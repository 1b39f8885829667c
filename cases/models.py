"""A space's pool of unlabelled cases, and which of them its members have answered.

A case is feature values only, checked against the space's schema like a predict instance.
The pool's ``version`` grows on every change to its cases, so caches of what was computed
on the pool (its table, rule coverage, the model's answers) are keyed by it and never stale.
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from teaching.models import Example, Space


class CasePool(models.Model):
    """One per space, created on first use; its row is the pool's write lock."""

    space = models.OneToOneField(Space, on_delete=models.CASCADE, related_name="case_pool")
    version = models.PositiveBigIntegerField(default=0)
    size = models.PositiveIntegerField(default=0)
    # When prediction inputs were last copied into the pool (spaces that opted in).
    traffic_sampled_at = models.DateTimeField(null=True, blank=True)


class CaseSource(models.TextChoices):
    IMPORT = "import"
    TRAFFIC = "traffic"  # sampled from client predictions


class Case(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    features = models.JSONField()
    source = models.CharField(max_length=16, choices=CaseSource.choices, default=CaseSource.IMPORT)
    # A digest of the features, so sampled traffic does not add a case twice.
    digest = models.CharField(max_length=40, db_index=False)
    added_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The example a member's answer made of this case; an answered case leaves the queue.
    answer = models.OneToOneField(
        Example, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["space", "id"], name="case_space_id"),
            models.Index(fields=["space", "digest"], name="case_space_digest"),
        ]
