"""The consensus app's answer to a teaching change (``teaching/signals.py``); connected in
``ConsensusConfig.ready``."""

from __future__ import annotations

from django.dispatch import receiver

from consensus.services import consensus_schedule
from teaching.signals import teachings_changed


@receiver(teachings_changed, dispatch_uid="consensus.check")
def schedule_check(sender, *, space_id, revision, refs, **_) -> None:
    consensus_schedule(space_id=space_id, revision=revision, refs=refs)
