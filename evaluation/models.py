"""Evaluation cases the community labels, and what each model version changed on them.

Behaviour lives in ``evaluation.services`` (writes) and ``evaluation.selectors`` (reads);
the pure computations (verdicts, alpha, scorecard, change attribution) in
``mola.engine.evaluation``.
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from teaching.models import ModelVersion, Space


class CaseStatus(models.TextChoices):
    OPEN = "open"  # fewer labels than the space asks for
    AGREED = "agreed"  # one label has enough of the weight (or a resolution settled it)
    CONTESTED = "contested"  # labelled enough, no label has enough of the weight
    DISMISSED = "dismissed"  # a resolution left it out: the disagreement stays


class EvaluationCase(models.Model):
    """Feature values the community measures the model on. Its status and label follow its
    members' labels (``evaluation.services.cases``) until a resolution settles it."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    features = models.JSONField()
    proposed_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    label = models.CharField(max_length=64, blank=True, default="")  # the agreed label
    shares = models.JSONField(default=dict)  # label → share of the weight
    # An ``evaluation: true`` example it was proposed from (one case per such example).
    example_id = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    contradiction_id = models.PositiveBigIntegerField(null=True, blank=True)
    settled = models.BooleanField(default=False)  # by a resolution: the verdict is final
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["space", "status"], name="evalcase_space_status")]


class CaseLabel(models.Model):
    """One member's label on one case (the proposer's is the first)."""

    case = models.ForeignKey(EvaluationCase, on_delete=models.CASCADE, related_name="labels")
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    label = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="one_label_per_member")
        ]


class VersionReport(models.Model):
    """What one published (or held) version changed against the version serving before it."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="+")
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    previous = models.PositiveIntegerField(null=True, blank=True)  # its version number
    # Agreed case id → this version's answer, for the next version's comparison.
    answers = models.JSONField(default=dict)
    # Sampled input's key (``row_key``) → this version's answer, likewise.
    input_answers = models.JSONField(default=dict)
    now_right = models.JSONField(default=list)
    now_wrong = models.JSONField(default=list)
    traffic_changed = models.PositiveIntegerField(default=0)
    traffic_total = models.PositiveIntegerField(default=0)
    causes = models.JSONField(default=list)  # [{teaching, author, cases, answers}]
    authors = models.JSONField(default=list)  # usernames whose writes this version is
    held_because = models.TextField(blank=True, default="")
    seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version_id"]


class Visit(models.Model):
    """When a member last looked at what changed in a space ("since your last visit")."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "user"], name="one_visit_per_member")
        ]
