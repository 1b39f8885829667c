"""Evaluation cases: proposed by any member, labelled by others independently, agreed or
contested by the expertise- and agreement-weighted share of one label
(``mola.engine.evaluation``); a contested case is a contradiction of kind
``evaluation_disagreement`` with its own thread, and a resolution of that thread settles it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from community.positions import expertise_weight
from community.services.notifications import notify
from community.services.threads import thread_open_for_dispute
from consensus.outside import (
    EVALUATION_DISAGREEMENT,
    contradiction_close_outside,
    contradiction_open_outside,
)
from consensus.services import contradictions_thread_set
from evaluation.models import CaseLabel, CaseStatus, EvaluationCase
from mola.engine import evaluation as engine
from mola.errors import Conflict, InvalidInput, NotFound
from teaching.models import Example, Membership, Space, Status
from teaching.services.access import check_member
from teaching.services.predict import rows_table
from teaching.services.revisions import space_lock

THRESHOLD_SETTING = "evaluation_agreement"  # share of the weight one label needs
MIN_LABELS_SETTING = "evaluation_min_labels"


def agreement_settings(space: Space) -> tuple[float, int]:
    """The space's threshold (default 0.7) and minimum number of labels (default 2)."""
    settings = space.settings or {}
    threshold = settings.get(THRESHOLD_SETTING, engine.DEFAULT_THRESHOLD)
    min_labels = settings.get(MIN_LABELS_SETTING, engine.DEFAULT_MIN_LABELS)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        threshold = engine.DEFAULT_THRESHOLD
    if isinstance(min_labels, bool) or not isinstance(min_labels, int):
        min_labels = engine.DEFAULT_MIN_LABELS
    return min(max(float(threshold), 0.5), 1.0), max(min_labels, 1)


def _check_label(space: Space, label: Any, field: str = "label") -> str:
    names = space.schema.label_names
    if not isinstance(label, str) or label not in names:
        raise InvalidInput(
            f"label is one of the space's labels: {', '.join(names)}.",
            code="unknown_label",
            field=field,
        )
    return label


def _check_features(space: Space, features: Any) -> dict[str, Any]:
    if not isinstance(features, dict):
        raise InvalidInput(
            "features is an object of feature values.", code="invalid", field="features"
        )
    rows_table(schema=space.schema, rows=[features], field=lambda _: "features", noun="features")
    return features


def case_propose(*, space: Space, user, features: Any, label: Any) -> EvaluationCase:
    """A member proposes a case with their label (their label is the case's first).

    400 naming the field for bad features or an unknown label; nothing is written then.
    """
    check_member(space=space, user=user)
    features = _check_features(space, features)
    label = _check_label(space, label)
    with transaction.atomic():
        space = space_lock(space_id=space.pk)
        case = EvaluationCase.objects.create(space=space, features=features, proposed_by=user)
        CaseLabel.objects.create(case=case, user=user, label=label)
        verdicts_refresh(space=space)
    case.refresh_from_db()
    return case


def case_get(*, case_id: int) -> EvaluationCase:
    case = EvaluationCase.objects.select_related("space").filter(pk=case_id).first()
    if case is None:
        raise NotFound(f"No evaluation case {case_id}.")
    return case


def case_label(*, case: EvaluationCase, user, label: Any) -> tuple[EvaluationCase, bool]:
    """The member's label on ``case`` (one per member: labelling again changes it, as a
    member persuaded in the case's thread may). Returns the case and whether the label is
    new. 409 once a resolution settled the case."""
    check_member(space=case.space, user=user)
    label = _check_label(case.space, label)
    with transaction.atomic():
        space = space_lock(space_id=case.space_id)
        case = EvaluationCase.objects.select_for_update().get(pk=case.pk)
        if case.settled:
            raise Conflict("A resolution settled this case.", code="settled")
        _, created = CaseLabel.objects.update_or_create(
            case=case, user=user, defaults={"label": label}
        )
        verdicts_refresh(space=space)
    case.refresh_from_db()
    return case, created


def space_verdicts(space: Space) -> engine.Verdicts:
    """Every case's verdict with today's weights (expertise × agreement)."""
    labels: dict[int, dict[int, str]] = {}
    for case_id, user_id, label in CaseLabel.objects.filter(case__space=space).values_list(
        "case_id", "user_id", "label"
    ):
        labels.setdefault(case_id, {})[user_id] = label
    settled = dict(
        EvaluationCase.objects.filter(
            space=space, settled=True, status=CaseStatus.AGREED
        ).values_list("pk", "label")
    )
    expertise = {
        user_id: expertise_weight(level)
        for user_id, level in Membership.objects.filter(space=space).values_list(
            "user_id", "expertise"
        )
    }
    threshold, min_labels = agreement_settings(space)
    return engine.verdicts(
        labels, expertise, threshold=threshold, min_labels=min_labels, settled=settled
    )


def verdicts_refresh(*, space: Space) -> list[EvaluationCase]:
    """Bring every unsettled case's status in line with the labels (a label moves weights,
    so any case may change). A case that becomes contested opens its contradiction and
    thread; one that stops being contested closes it. Call inside a transaction with the
    space locked. Returns the cases that changed."""
    found = space_verdicts(space).verdicts
    changed = []
    for case in EvaluationCase.objects.filter(space=space, settled=False):
        verdict = found.get(case.pk) or engine.Verdict(engine.OPEN, None, {}, 0)
        label = verdict.label if verdict.status == engine.AGREED else ""
        shares = {k: round(v, 4) for k, v in verdict.shares.items()}
        if (case.status, case.label, case.shares) == (verdict.status, label, shares):
            continue
        was_contested = case.status == CaseStatus.CONTESTED
        case.status, case.label, case.shares = verdict.status, label, shares
        if verdict.status == CaseStatus.CONTESTED:
            _contest(space, case, verdict, reopen=not was_contested)
        elif was_contested:
            contradiction_close_outside(
                space=space,
                key=_key(case),
                note="Closed by itself: the members' labels now agree.",
            )
        case.save(update_fields=["status", "label", "shares", "contradiction_id", "updated_at"])
        changed.append(case)
    return changed


def _key(case: EvaluationCase) -> str:
    return f"{EVALUATION_DISAGREEMENT}:case:{case.pk}"


def _contest(space: Space, case: EvaluationCase, verdict: engine.Verdict, *, reopen: bool):
    """Open (or update) the case's contradiction; a newly contested case gets a thread and
    its labellers are told."""
    ordered = sorted(verdict.shares.values(), reverse=True)
    gap = ordered[0] - (ordered[1] if len(ordered) > 1 else 0.0)
    counts: dict[str, int] = {}
    for label in case.labels.values_list("label", flat=True):
        counts[label] = counts.get(label, 0) + 1
    words = ", ".join(f"{label} {share:.0%}" for label, share in verdict.shares.items())
    row = contradiction_open_outside(
        space=space,
        key=_key(case),
        kind=EVALUATION_DISAGREEMENT,
        witness=case.features,
        region=f"evaluation case #{case.pk}",
        evidence=counts,
        severity=1.0 - gap,
        summary=f"Members disagree on evaluation case #{case.pk}: {words} of the weight.",
    )
    case.contradiction_id = row.pk
    if not reopen and row.thread_id is not None:
        return
    thread = thread_open_for_dispute(
        space=space,
        thread_id=row.thread_id,
        title=f"Which label is right for evaluation case #{case.pk}?",
        teachings=[],
    )
    contradictions_thread_set(space=space, keys=[row.key], thread=thread)
    labellers = case.labels.values_list("user_id", flat=True)
    notify(
        space=space,
        user_ids=labellers,
        kind="thread",
        message=f"Members disagree on evaluation case #{case.pk} ({words}); "
        "argue it out in the thread. You may change your label there.",
        thread=thread,
        data={"evaluation_case": case.pk, "contradiction": row.pk},
    )


def cases_settle(*, space: Space, contradiction_ids: list[int]) -> list[EvaluationCase]:
    """A resolution decided the disagreements ``contradiction_ids``: each of their cases is
    settled on its leading label by weight as it stands (members may have changed their
    labels in the thread); a tie leaves the case out of the evaluation (dismissed)."""
    cases = list(
        EvaluationCase.objects.select_for_update().filter(
            space=space, contradiction_id__in=contradiction_ids, settled=False
        )
    )
    if not cases:
        return []
    found = space_verdicts(space).verdicts
    for case in cases:
        verdict = found.get(case.pk)
        shares = sorted((verdict.shares if verdict else {}).values(), reverse=True)
        tie = not shares or (len(shares) > 1 and abs(shares[0] - shares[1]) < 1e-9)
        case.settled = True
        case.status = CaseStatus.DISMISSED if tie else CaseStatus.AGREED
        case.label = "" if tie else verdict.label
        case.save(update_fields=["settled", "status", "label", "updated_at"])
    verdicts_refresh(space=space)  # settled labels count in everyone's agreement
    return cases


def cases_from_evaluation_examples(*, space: Space, example_ids: list[int]) -> int:
    """Each active ``evaluation: true`` example among ``example_ids`` becomes a case proposed
    by its author with its label (once per example). Returns how many were made."""
    examples = Example.objects.filter(
        space=space, pk__in=example_ids, evaluation=True, status=Status.ACTIVE
    ).exclude(pk__in=EvaluationCase.objects.filter(example_id__isnull=False).values("example_id"))
    examples = list(examples)
    if not examples:
        return 0
    made = 0
    with transaction.atomic():
        space = space_lock(space_id=space.pk)
        for example in examples:
            case = EvaluationCase.objects.create(
                space=space,
                features=example.features,
                proposed_by_id=example.author_id,
                example_id=example.pk,
            )
            CaseLabel.objects.create(case=case, user_id=example.author_id, label=example.label)
            made += 1
        if made:
            verdicts_refresh(space=space)
    return made
