"""teaching's own listeners: publish notices for warm serving (``services/serving.py``)."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from teaching.models import ModelStatus, ModelVersion
from teaching.services import serving
from teaching.signals import version_publishing


@receiver(post_save, sender=ModelVersion, dispatch_uid="teaching.serving.announce")
def announce_ready_version(sender, instance: ModelVersion, **kwargs) -> None:
    """Every way a version becomes ready (trained, refined, a held one published) saves it:
    once committed, web processes are told to load it."""
    if instance.status == ModelStatus.READY:
        serving.recheck(instance.space_id)  # this process asks the database at once
        transaction.on_commit(
            partial(serving.announce, space_id=instance.space_id, version_id=instance.pk)
        )


@receiver(version_publishing, dispatch_uid="teaching.serving.keep_fitted")
def keep_fitted_model(sender, version, model, **kwargs) -> None:
    """A process that trains a space it also answers for (one-process setups, tests) keeps
    the fitted model instead of reading it back; it is used only once the version is ready."""
    serving.keep_fitted(space_id=version.space_id, version_id=version.pk, model=model)
