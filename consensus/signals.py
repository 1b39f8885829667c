"""What the consensus app tells the community app above it, without importing it.

community calls consensus's services (attach, close and reopen contradictions); consensus
never calls community's. Where a check must be followed by community work, it sends one
of these and ``community/receivers.py`` listens (see ``teaching/signals.py``).
"""

from __future__ import annotations

from django.dispatch import Signal

# A check grouped its open disputes: ``space``, ``groups`` (``DisputeGroup`` list, most
# severe first). Sent inside the check's write transaction. community opens or reopens
# their threads (as many as a space may have) and hands each thread its contradictions
# through ``contradictions_thread_set``.
disputes_grouped = Signal()

# Disputes opened (new, or again): ``space``, ``contradictions`` (at most ``NOTIFY_BATCH``
# ``Contradiction`` rows, none ``expected``). Sent on commit. community tells the authors.
disputes_opened = Signal()

# A moderator's decision closed contradictions: ``space``, ``ids``, ``status`` (resolved or
# dismissed). Sent inside the decision's transaction. evaluation settles the evaluation
# cases whose disagreement was decided.
disputes_decided = Signal()
