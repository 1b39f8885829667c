"""The wording of inbox items: what each grouped item says after each event folded in.

``fold(row, event)`` updates an item's ``data``, ``message`` and ``thread`` with one more
event; ``row.count`` already counts it. ``data["target"]`` says where the item links when
it has no thread: ``{"contradictions": {...filters}}``, ``{"teaching": ref}``,
``{"threads": {}}`` or ``{"member": username}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from community.models import Notification

if TYPE_CHECKING:  # the event type lives with the delivery, which imports this module
    from community.services.notifications import Event

KIND_WORDS = {
    "rule_overlap": "overlaps",
    "rule_exception": "lies inside",
    "rule_example": "is contradicted by",
    "example_conflict": "conflicts with",
    "concept_duplicate": "duplicates",
}
EVENT_WORDS = {
    "thread": ("opening", "openings"),
    "post": ("post", "posts"),
    "resolution": ("resolution", "resolutions"),
    "appeal": ("appeal", "appeals"),
    "disputed": ("new dispute", "new disputes"),
}


def _name(ref: dict[str, Any] | tuple[str, int]) -> str:
    kind, pk = (ref["type"], ref["id"]) if isinstance(ref, dict) else ref
    return f"{kind} #{pk}"


def dispute_item(contradiction, ref: tuple[str, int], other: tuple[str, int], author: str):
    """What a dispute item needs of one contradiction, seen from the teaching ``ref``."""
    return {
        "contradiction": contradiction.pk,
        "teaching": {"type": ref[0], "id": ref[1]},
        "other": {"type": other[0], "id": other[1]},
        "words": KIND_WORDS.get(contradiction.kind, contradiction.kind.replace("_", " ")),
        "severity": round(float(contradiction.severity), 3),
        "thread": contradiction.thread_id,
        "author": author,
    }


def _counted(counts: dict[str, int]) -> str:
    # In EVENT_WORDS' order, not the dict's: PostgreSQL's jsonb does not keep key order.
    order = list(EVENT_WORDS)
    parts = []
    for kind, n in sorted(
        counts.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0])
    ):
        one, many = EVENT_WORDS.get(kind, (kind, f"{kind}s"))
        parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


def fold(row: Notification, event: Event) -> None:
    family = row.group.split(":")[0].split("@")[0]
    if row.group.startswith("disputes:more"):
        _fold_more_disputes(row, event)
    elif family == "disputes":
        _fold_disputes(row, event)
    elif row.group.startswith("threads:more"):
        _fold_more_threads(row, event)
    elif family == "thread":
        _fold_thread(row, event)
    elif family == "reviews":
        _fold_review(row, event)


def _top(row: Notification, item: dict[str, Any]) -> dict[str, Any]:
    """The most severe dispute folded in since the item was last read."""
    top = row.data.get("top")
    if top is None or item["severity"] > top["severity"]:
        row.data["top"] = top = item
    return top


def _fold_disputes(row: Notification, event: Event) -> None:
    item = event.item
    top = _top(row, item)
    mine = _name(item["teaching"])
    threads = {*row.data.get("threads", []), item["thread"]}
    row.data["threads"] = sorted(threads, key=lambda t: (t is None, t or 0))
    row.data["teaching"] = item["teaching"]
    row.data["target"] = {
        "contradictions": {"teaching": f"{item['teaching']['type']}:{item['teaching']['id']}"}
    }
    # One thread holds every dispute told here: the item links to it.
    row.thread = event.thread if len(threads) == 1 and item["thread"] else None
    if row.count == 1:
        row.message = (
            f"A new dispute about your {mine}: it {item['words']} {_name(item['other'])} "
            f"(severity {item['severity']:.2f})."
        )
    else:
        row.message = (
            f"{row.count} new disputes about your {mine} (most severe: it {top['words']} "
            f"{_name(top['other'])}, severity {top['severity']:.2f})."
        )


def _fold_more_disputes(row: Notification, event: Event) -> None:
    item = event.item
    top = _top(row, item)
    teachings = {*row.data.get("teachings", []), _name(item["teaching"])}
    row.data["teachings"] = sorted(teachings)
    row.data["target"] = {"contradictions": {"member": item["author"]}}
    row.thread = None
    row.message = (
        f"{row.count} new dispute{'s' if row.count != 1 else ''} about {len(teachings)} more "
        f"of your teachings (most severe: your {_name(top['teaching'])} {top['words']} "
        f"{_name(top['other'])}, severity {top['severity']:.2f})."
    )


def _fold_thread(row: Notification, event: Event) -> None:
    counts = row.data.setdefault("counts", {})
    counts[event.kind] = counts.get(event.kind, 0) + 1
    row.data["latest"] = event.item["message"]
    row.data["title"] = event.item["title"]
    row.thread = event.thread
    if row.count == 1:
        row.message = event.item["message"]
    else:
        row.message = (
            f"{row.count} updates in “{event.item['title']}”: {_counted(counts)}. "
            f"Latest: {event.item['message']}"
        )


def _fold_more_threads(row: Notification, event: Event) -> None:
    counts = row.data.setdefault("counts", {})
    counts[event.kind] = counts.get(event.kind, 0) + 1
    threads = {*row.data.get("threads", []), event.thread.pk if event.thread else 0}
    row.data["threads"] = sorted(threads)
    row.data["target"] = {"threads": {}}
    row.thread = None
    row.message = (
        f"{row.count} update{'s' if row.count != 1 else ''} in {len(threads)} more threads "
        f"({_counted(counts)}). Latest: {event.item['message']}"
    )


def _fold_review(row: Notification, event: Event) -> None:
    item = event.item
    decided = row.data.setdefault("decided", {})
    decided[item["action"]] = decided.get(item["action"], 0) + 1
    row.data["teachings"] = [*row.data.get("teachings", []), item["teaching"]][-50:]
    verb = "endorsed" if item["action"] == "endorse" else "rejected"
    latest = f"{item['by']} {verb} your {_name(item['teaching'])}"
    latest += f": “{item['note']}”" if item["note"] else "."
    if row.count == 1:
        row.message = latest
        row.data["target"] = {"teaching": item["teaching"]}
    else:
        tally = ", ".join(
            f"{n} {'endorsed' if action == 'endorse' else 'rejected'}"
            for action, n in decided.items()
        )
        row.message = f"{row.count} of your teachings were reviewed ({tally}). Latest: {latest}"
        row.data["target"] = {"member": None}  # the member's own page lists them
    row.thread = None
