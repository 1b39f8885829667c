"""Contradictions among a space's teachings, as the consensus core found them."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from teaching.models import Space


class ContradictionStatus(models.TextChoices):
    OPEN = "open"
    RESOLVED = "resolved"  # settled by a moderator, or closed by itself when a teaching changed
    DISMISSED = "dismissed"  # a deliberate, accepted disagreement


class Contradiction(models.Model):
    """One set of teachings that cannot all hold, with a witness case.

    ``key`` (kind + teachings) is stable, so each check upserts. A closed contradiction
    remembers its teachings' revisions at closing (``closed_revisions``): found again with
    the same revisions it stays closed; once one of them changes it opens again.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="contradictions")
    key = models.CharField(max_length=400)
    kind = models.CharField(max_length=32)
    teachings = models.JSONField()  # [{"type": "rule", "id": 12}, ...]
    # Every kind holds exactly two teachings; these copy them (``rule:12``) and their
    # authors' user ids into indexed columns, so the list filters by teaching or member
    # without reading the JSON. Set when the row is created: a key's teachings never change.
    first = models.CharField(max_length=40, blank=True, default="")
    second = models.CharField(max_length=40, blank=True, default="")
    first_author = models.PositiveIntegerField(null=True, blank=True)
    second_author = models.PositiveIntegerField(null=True, blank=True)
    witness = models.JSONField(default=dict)
    region = models.TextField(blank=True, default="")
    evidence = models.JSONField(default=dict)
    # What a rule contradiction's counts come from (``mola.engine.consensus.counted``): its
    # evidence and note are stored without them and shown with its rules' ``RuleEvidence``
    # (``consensus.evidence``), so an example edit rewrites ~100 rules' counts, not ~8k rows.
    # Empty: the evidence and note are shown as stored.
    evidence_from = models.JSONField(default=list, blank=True)
    severity = models.FloatField(default=0.0)
    note = models.TextField(blank=True, default="")
    summary = models.TextField(blank=True, default="")
    expected = models.BooleanField(default=False)  # a counterexample naming its rule
    status = models.CharField(
        max_length=16, choices=ContradictionStatus.choices, default=ContradictionStatus.OPEN
    )
    thread = models.ForeignKey(
        "community.Thread",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contradictions",
    )
    checked_revision = models.PositiveBigIntegerField(default=0)
    # A hash of what a check found (every field above but the revision), so a check compares
    # what it found with what is stored without reading every stored row back.
    digest = models.CharField(max_length=32, blank=True, default="")
    closed_revisions = models.JSONField(default=dict)  # {"rule:12": 7, ...}
    # Reopened by an appeal: a check leaves it open while a teaching of it is retired (the
    # one appealed), until a moderator decides it again.
    appealed = models.BooleanField(default=False)
    close_note = models.TextField(blank=True, default="")
    opened_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-severity", "id"]
        constraints = [
            models.UniqueConstraint(fields=["space", "key"], name="one_contradiction_per_key")
        ]
        # The list's filters, each an equality after (space, status) so SQLite and
        # PostgreSQL pick them over the queue's order, and with severity so counts and the
        # by-teaching groups read the index alone (bench/moderation.py).
        indexes = [
            models.Index(fields=["space", "status", "-severity", "id"], name="contra_queue"),
            models.Index(fields=["space", "status", "first", "severity"], name="contra_first"),
            models.Index(fields=["space", "status", "second", "severity"], name="contra_second"),
            models.Index(
                fields=["space", "status", "first_author", "severity"], name="contra_first_author"
            ),
            models.Index(
                fields=["space", "status", "second_author", "severity"],
                name="contra_second_author",
            ),
            models.Index(fields=["space", "status", "kind", "severity"], name="contra_kind"),
            models.Index(fields=["space", "status", "thread", "severity"], name="contra_threaded"),
            models.Index(fields=["thread", "status"], name="contra_thread"),
            # A check reads the (few) appealed rows each time: without this it walked every
            # open row of the space (80 ms at M).
            models.Index(
                fields=["space", "status"], condition=Q(appealed=True), name="contra_appealed"
            ),
        ]

    def save(self, *args, **kwargs):
        if not self.first and self.teachings:  # the store fills them in bulk; a single row here
            from consensus.columns import teaching_columns_fill

            teaching_columns_fill(space=self.space, rows=[self])
        super().save(*args, **kwargs)


class ConsensusState(models.Model):
    """Per space: the newest teaching revision whose check is stored (never go back)."""

    space = models.OneToOneField(Space, on_delete=models.CASCADE, related_name="consensus")
    checked_revision = models.PositiveBigIntegerField(default=0)
    checks = models.PositiveIntegerField(default=0)
    # Bumped by every write to the space's contradictions: a check that planned its writes on
    # an older generation plans again (see ``contradictions_store``).
    generation = models.PositiveBigIntegerField(default=0)
    last_seconds = models.FloatField(null=True, blank=True)


class RuleEvidence(models.Model):
    """Per rule of a space: the examples its contradictions count, as the last stored check
    saw them (``mola.engine.consensus.counted.RuleCounts.as_json``): training example ids per
    label, and how many examples of each label disagree with it. Written for the rules an
    edit touches; read to show a page of contradictions (``consensus.evidence``)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="rule_evidence")
    rule_id = models.PositiveIntegerField()
    counts = models.JSONField(default=dict)
    digest = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "rule_id"], name="one_rule_evidence_per_rule")
        ]
