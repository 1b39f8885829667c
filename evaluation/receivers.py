"""The evaluation app's answers to what the apps below it announce; connected in
``EvaluationConfig.ready``."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from consensus.signals import disputes_decided
from evaluation.services.cases import cases_from_evaluation_examples, cases_settle
from evaluation.services.versions import version_evaluate
from teaching.models import Space
from teaching.signals import teachings_changed, version_publishing

log = logging.getLogger(__name__)


@receiver(version_publishing, dispatch_uid="evaluation.version")
def evaluate_version(sender, *, version, model, **_) -> None:
    # A failure here must never keep a version from being published: its report and
    # scorecard are lost (logged), the version is not. The savepoint keeps the publishing
    # transaction usable after a database error.
    metrics = dict(version.metrics)
    try:
        with transaction.atomic():
            version_evaluate(version=version, model=model)
    except Exception:
        log.exception("evaluating version %s of space %s failed", version.pk, version.space_id)
        version.metrics, version.status, version.held_because = metrics, "ready", ""


@receiver(disputes_decided, dispatch_uid="evaluation.settle")
def settle_cases(sender, *, space, ids, status, **_) -> None:
    cases_settle(space=space, contradiction_ids=ids)


@receiver(teachings_changed, dispatch_uid="evaluation.examples")
def propose_evaluation_examples(sender, *, space_id, revision, refs, **_) -> None:
    example_ids = [int(pk) for kind, pk in refs if kind == "example"]
    space = Space.objects.filter(pk=space_id).first()
    if example_ids and space is not None:
        cases_from_evaluation_examples(space=space, example_ids=example_ids)
