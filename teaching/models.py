"""Spaces, members and the three kinds of teaching, with their immutable revisions.

Behaviour lives in ``teaching.services`` (writes) and ``teaching.selectors`` (reads); the
models hold data and a few small facts about it.

Long: one app's schema, which reads best in one place (Django looks for it here, and the
migrations follow it); the version and its artefact tables belong together.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings as django_settings
from django.db import models, transaction
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from mola.engine.schema import Schema


class Role(models.TextChoices):
    TEACHER = "teacher"
    MODERATOR = "moderator"
    OWNER = "owner"


class Expertise(models.TextChoices):
    NOVICE = "novice"
    INTERMEDIATE = "intermediate"
    EXPERT = "expert"
    MASTER = "master"


class Status(models.TextChoices):
    PROPOSED = "proposed"  # by a novice, waiting for a trusted member's endorsement
    ACTIVE = "active"
    RETIRED = "retired"
    REJECTED = "rejected"


# Statuses whose teachings exist for the language and for consensus (a proposed concept can
# already be named by a rule; a retired one cannot).
LIVE_STATUSES = (Status.PROPOSED, Status.ACTIVE)


class Space(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    features = models.JSONField(default=list)
    labels = models.JSONField(default=list)
    settings = models.JSONField(default=dict)
    # Grows by at least one on every teaching change; incremented under a row lock.
    teaching_revision = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def schema(self) -> Schema:
        """The features and labels as a Schema, built once per pair of lists (~40 us each
        time otherwise: a one-instance predict reads it). Assign new lists to change them,
        as ``space_update`` does: one changed in place is not seen."""
        built = self.__dict__.get("_schema")
        if built is None or built[0] is not self.features or built[1] is not self.labels:
            built = (self.features, self.labels, Schema.from_dicts(self.features, self.labels))
            self.__dict__["_schema"] = built
        return built[2]

    @property
    def visibility(self) -> str:
        """``public``: any signed-in user reads the space's teachings, threads and
        contributors; ``members``: only its members see anything of it."""
        return self.settings.get("visibility", "public")

    @property
    def reviews_novices(self) -> bool:
        return bool(self.settings.get("review_novice_teachings", True))


class Membership(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.TEACHER)
    expertise = models.CharField(max_length=16, choices=Expertise.choices, default=Expertise.NOVICE)
    expertise_verified_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "user"], name="one_membership_per_space")
        ]
        ordering = ["joined_at", "id"]

    @property
    def moderates(self) -> bool:
        return self.role in (Role.MODERATOR, Role.OWNER)

    @property
    def is_trusted(self) -> bool:
        """May endorse proposed teachings."""
        return self.moderates or self.expertise in (Expertise.EXPERT, Expertise.MASTER)


class Teaching(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # The space's teaching_revision at this teaching's last change.
    revision = models.PositiveBigIntegerField(default=0)
    # Part of an open contradiction; kept current by the consensus app.
    disputed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    kind: str = ""

    class Meta:
        abstract = True
        ordering = ["id"]


class Concept(Teaching):
    kind = "concept"
    name = models.CharField(max_length=64)
    definition = models.TextField()
    description = models.TextField(blank=True, default="")

    class Meta(Teaching.Meta):
        indexes = [models.Index(fields=["space", "status"], name="concept_space_status")]


class Rule(Teaching):
    kind = "rule"
    condition = models.TextField()
    label = models.CharField(max_length=64)
    rationale = models.TextField(blank=True, default="")

    class Meta(Teaching.Meta):
        indexes = [models.Index(fields=["space", "status"], name="rule_space_status")]


class Example(Teaching):
    kind = "example"
    features = models.JSONField()
    label = models.CharField(max_length=64)
    note = models.TextField(blank=True, default="")
    refutes = models.ForeignKey(
        Rule, null=True, blank=True, on_delete=models.PROTECT, related_name="counterexamples"
    )
    evaluation = models.BooleanField(default=False)

    class Meta(Teaching.Meta):
        indexes = [
            models.Index(fields=["space", "status"], name="example_space_status"),
            # A retrain reads only the examples written since its last read, and the
            # disputed ones (teaching.services.snapshots).
            models.Index(fields=["space", "revision"], name="example_space_revision"),
            models.Index(
                fields=["space", "status"],
                condition=models.Q(disputed=True),
                name="example_space_disputed",
            ),
        ]


TEACHING_MODELS: dict[str, type[Teaching]] = {"concept": Concept, "rule": Rule, "example": Example}


class Action(models.TextChoices):
    CREATE = "create"
    EDIT = "edit"
    RETIRE = "retire"
    REVERT = "revert"
    ENDORSE = "endorse"
    REJECT = "reject"
    ROLLBACK = "rollback"
    RESOLVE = "resolve"


class TeachingRevision(models.Model):
    """One immutable change of one teaching: who, when, what it became (full content)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="revisions")
    kind = models.CharField(max_length=16)
    teaching_id = models.PositiveBigIntegerField()
    revision = models.PositiveBigIntegerField()  # the space's teaching_revision it made
    action = models.CharField(max_length=16, choices=Action.choices)
    author = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    content = models.JSONField()
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["revision", "id"]
        indexes = [
            models.Index(fields=["space", "kind", "teaching_id"], name="revision_teaching"),
            models.Index(fields=["space", "author", "revision"], name="revision_author"),
        ]


class ModelStatus(models.TextChoices):
    TRAINING = "training"
    READY = "ready"
    FAILED = "failed"
    # Trained, but a check before publishing held it back (the evaluation app's regression
    # guard: ``held_because`` says why); the version before it keeps serving.
    HELD = "held"


class ModelVersion(models.Model):
    """One model trained from one teaching revision of a space. Immutable once ready.

    ``version`` numbers go up with the teaching revision they were trained from, so the
    newest ready version is always the one trained from the newest revision.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="model_versions")
    version = models.PositiveIntegerField()
    teaching_revision = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=ModelStatus.choices)
    metrics = models.JSONField(default=dict)
    timings = models.JSONField(default=dict)
    contributors = models.JSONField(default=list)
    teachings = models.JSONField(default=dict)  # {"rule": [ids], "concept": [...], ...}
    error = models.TextField(blank=True, default="")
    held_because = models.TextField(blank=True, default="")
    requested_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    training_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(fields=["space", "version"], name="one_version_number"),
        ]

    # The pickled model lives in ModelArtifact. ``version.artifact = data`` then ``save()``
    # stores it in the same transaction as the version (training publishes that way), and
    # reading ``version.artifact`` loads it; nothing else about a version ever touches it.
    # ``version.artifact_parts = {digest: its bytes when called}``: the parts it names
    # (mola's learning/parts.py), stored with it where the space has none of that digest.
    artifact_parts: dict[str, Callable[[], bytes]] | None = None

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():
            super().save(*args, **kwargs)
            if getattr(self, "_artifact_unsaved", False):
                _, created = ModelArtifact.objects.update_or_create(
                    version_id=self.pk, defaults={"data": self._artifact}
                )
                if not created:
                    ArtifactPart.objects.filter(artifact_id=self.pk).delete()
                if self.artifact_parts:
                    self._link_parts(self.artifact_parts)
                self._artifact_unsaved = False

    def _link_parts(self, parts: dict[str, Callable[[], bytes]]) -> None:
        """Link the artefact to its parts, storing those the space lacks. Under the lock of
        the space's training row, which ``versions_prune`` takes before deleting the
        space's unlinked parts: a part found here stays until this link is committed."""
        TrainingState.lock(self.space_id)
        stored = ModelPart.objects.filter(space_id=self.space_id, digest__in=list(parts))
        have = set(stored.values_list("digest", flat=True))
        ModelPart.objects.bulk_create(
            ModelPart(space_id=self.space_id, digest=digest, data=data())
            for digest, data in parts.items()
            if digest not in have
        )
        ArtifactPart.objects.bulk_create(
            ArtifactPart(artifact_id=self.pk, part_id=pk)
            for pk in stored.values_list("pk", flat=True)
        )

    @property
    def artifact(self) -> bytes | None:
        if getattr(self, "_artifact", None) is None and self.pk is not None:
            self._artifact = (
                ModelArtifact.objects.filter(version_id=self.pk)
                .values_list("data", flat=True)
                .first()
            )
        return getattr(self, "_artifact", None)

    @artifact.setter
    def artifact(self, data: bytes | None) -> None:
        self._artifact = data
        self._artifact_unsaved = data is not None


class ModelArtifact(models.Model):
    """A version's pickled model, in a table of its own.

    On SQLite a multi-MB value in a row makes every column stored after it a walk through
    its overflow pages: kept in the version's row, it cost ``GET /model`` 80 ms at M and
    300 ms at L. Here only loading a model reads it.
    """

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    data = models.BinaryField()


class ModelPart(models.Model):
    """A piece of pickled model that several versions of a space name by its digest (the
    fitted forest a quick version takes from the refined one: mola's learning/parts.py),
    stored once. Deleted by ``versions_prune`` once no artefact links to it."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64)  # sha256 of ``data``
    data = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "digest"], name="one_part_per_digest"),
        ]


class ArtifactPart(models.Model):
    """An artefact names this part: the part cannot be deleted while the link exists."""

    artifact = models.ForeignKey(ModelArtifact, on_delete=models.CASCADE, related_name="+")
    part = models.ForeignKey(ModelPart, on_delete=models.RESTRICT, related_name="links")


class TrainingState(models.Model):
    """The retrain queue of one space, claimed with conditional UPDATEs.

    ``wanted_revision`` is the newest revision a retrain was asked for; a worker claims the
    space by setting ``running_since`` where it is null, trains the newest revision, and
    releases; a burst of requests while it trains collapses into one more training.
    """

    space = models.OneToOneField(Space, on_delete=models.CASCADE, related_name="training")
    wanted_revision = models.PositiveBigIntegerField(default=0)
    trained_revision = models.PositiveBigIntegerField(default=0)
    running_since = models.DateTimeField(null=True, blank=True)
    running_revision = models.PositiveBigIntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    trainings = models.PositiveIntegerField(default=0)
    # The claim holder refreshes this while it trains (``mola.leases``): a claim whose
    # heartbeat stopped belongs to a worker that died, and anyone may take it over.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True, default="")  # host:pid

    @classmethod
    def lock(cls, space_id: int) -> None:
        """Hold the space's training row until the transaction ends: a version links to
        the model parts it found (``ModelVersion._link_parts``), and ``parts_prune``
        deletes the unlinked ones, each under this lock, so no part goes under a new link."""
        cls.objects.select_for_update().filter(space_id=space_id).exists()


class WorkKind(models.TextChoices):
    RETRAIN = "retrain"
    CHECK = "check"  # consensus
    REFINE = "refine"


class Outbox(models.Model):
    """Work a space needs done after a write: recorded in the write's own transaction, so a
    committed write never loses it, and removed when the work is done.

    One row per space and kind: a burst of writes raises ``revision`` (the newest revision
    the work must reach) and keeps ``since`` (when the oldest unmet request was made). The
    web process sends the task after commit without waiting for the broker; a sweep in the
    worker sends again whatever is overdue (``teaching.services.outbox``).
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=WorkKind.choices)
    revision = models.PositiveBigIntegerField()
    since = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)  # last sent by the sweep
    sends = models.PositiveIntegerField(default=0)  # by the sweep, since the last write
    # When the sweep gave up on it (sent ``MOLA_SWEEP_MAX_SENDS`` times, never done): shown
    # in /healthz's backlog; the next write of the space tries again.
    failed_at = models.DateTimeField(null=True, blank=True)
    # Refreshed by a task while it works on the row (checks; a retrain beats its claim).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["space", "kind"], name="one_outbox_row_per_kind")
        ]


class SpaceApiKeyManager(APIKeyManager):
    def get_usable_keys(self) -> models.QuerySet:
        # The key's space in the same query: a client's call then reads its space from the
        # key (teaching.api.model.space_for_reader), one query fewer per predict.
        return super().get_usable_keys().select_related("space")


class SpaceApiKey(AbstractAPIKey):
    """A client's key: reads the model and predicts, in its own space only."""

    objects = SpaceApiKeyManager()

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "space API key"


class RulePrecedence(models.Model):
    """Where both rules fire, ``winner``'s label wins over ``loser``'s (the model honours it).

    Recorded by a moderator's resolution or by confirming a rule as an exception.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="precedences")
    winner = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    loser = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["winner", "loser"], name="one_precedence_per_pair")
        ]
