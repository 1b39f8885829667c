"""What the cases app does when teaching asks (``teaching.signals``)."""

from __future__ import annotations

from django.dispatch import receiver

from cases.selectors import training_sample
from teaching.signals import pool_sample_wanted


@receiver(pool_sample_wanted, dispatch_uid="cases.pool_sample")
def pool_sample_answer(sender, *, space, limit: int, **kwargs) -> list[dict]:
    """The unanswered cases of the space's pool the learner may read (a bounded sample)."""
    return training_sample(space=space, limit=limit)
