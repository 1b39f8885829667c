"""What a consensus check stores of each contradiction it found: the row's fields
(``stored_fields``), and a digest of them, so a check compares what it found with the stored
rows without reading them back (the store remembers each digest with the object it was
made of: the index hands back the same object while a contradiction is unchanged)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from mola.engine.consensus import Contradiction as Found


def _ref_dicts(found: Found) -> list[dict[str, Any]]:
    return [{"type": ref.type, "id": ref.id} for ref in found.teachings]


def revisions_of(found: Found, versions: dict) -> dict[str, int]:
    return {str(ref): versions.get(ref, 0) for ref in found.teachings}


_LEAVES = frozenset((str, int, float, bool, type(None)))  # exact types: numpy's are none
_KEYS = frozenset((str,))


def _plain(value: Any) -> Any:
    """JSON-safe copies of what the core returns (numpy scalars become Python numbers).
    Plain leaves are not called for: a witness has a value per feature, and an example edit
    at M stores ~14k of them. A dict that is plain already (nearly every one) is handed
    back as it is, looked over in C: the core's contradictions are never written to."""
    if isinstance(value, dict):
        if _LEAVES.issuperset(map(type, value.values())) and _KEYS.issuperset(map(type, value)):
            return value
        return {
            key if type(key) is str else str(key): item if type(item) in _LEAVES else _plain(item)
            for key, item in value.items()
        }
    if hasattr(value, "item"):
        return value.item()
    return value


FIELD_NAMES = (
    "kind",
    "teachings",
    "witness",
    "region",
    "evidence",
    "evidence_from",
    "severity",
    "note",
    "summary",
    "expected",
    "digest",
    "checked_revision",
)


def stored_fields(item: Found, revision: int) -> dict[str, Any]:
    fields = stored_content(item)
    return {**fields, "digest": content_digest(fields), "checked_revision": revision}


def content_digest(content: dict[str, Any]) -> str:
    return hashlib.blake2b(
        orjson.dumps(content, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()


Digests = dict[str, tuple[Found, str]]  # key → the found contradiction and its digest


# Each stored field (a key of ``stored_content``) and the attribute of a found contradiction
# it is made of: equal attributes store equal values.
_SOURCES = (
    ("kind", "kind"),
    ("teachings", "teachings"),
    ("witness", "witness"),
    ("region", "region_text"),
    ("evidence", "evidence"),
    ("evidence_from", "counted"),
    ("severity", "severity"),
    ("note", "note"),
    ("summary", "summary"),
    ("expected", "expected"),
)


def changed_fields(before: Found | None, after: Found) -> tuple[str, ...]:
    """The stored fields that may differ between what was stored of ``before`` and what is
    to be stored of ``after`` (every field without ``before``). An edit inside a suspect
    rule's region changes the severity and note of each of its ~200 pairs and nothing
    else of them: writing those two columns, not eleven, is most of a warm check's write."""
    if before is None:
        return tuple(name for name, _ in _SOURCES)
    return tuple(
        name
        for name, attribute in _SOURCES
        if getattr(before, attribute) is not getattr(after, attribute)
        and getattr(before, attribute) != getattr(after, attribute)
    )


def stored_content(item: Found) -> dict[str, Any]:
    """What a check found, as stored (every field the digest covers)."""
    return {
        "kind": item.kind,
        "teachings": _ref_dicts(item),
        "witness": _plain(item.witness),
        "region": item.region_text,
        "evidence": _plain(item.evidence),
        "evidence_from": list(item.counted),
        "severity": round(float(item.severity), 4),
        "note": item.note,
        "summary": item.summary,
        "expected": item.expected,
    }
