"""The indexed copies of a contradiction's two teachings (``first``/``second``, as
``rule:12``) and of their authors' user ids, which the list filters on.

Every kind of contradiction is between exactly two teachings, and a row's teachings never
change (they are part of its key), so the columns are written once, when the row is created.
"""

from __future__ import annotations

from collections.abc import Iterable

from consensus.models import Contradiction
from teaching.models import TEACHING_MODELS, Space

_CHUNK = 500  # ids per ``IN`` list
# From this many teachings on, one read of every author of the space is cheaper than IN lists.
_WHOLE_SPACE = 5_000


def ref_text(ref: dict) -> str:
    return f"{ref['type']}:{int(ref['id'])}"


def teaching_authors(
    *, space: Space, refs: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """The author's user id of each teaching among ``refs`` (missing ones left out)."""
    wanted: dict[str, set[int]] = {}
    for kind, pk in refs:
        wanted.setdefault(kind, set()).add(pk)
    found: dict[tuple[str, int], int] = {}
    for kind, ids in wanted.items():
        teachings = TEACHING_MODELS[kind].objects.filter(space=space)
        if len(ids) >= _WHOLE_SPACE:
            pairs = teachings.values_list("pk", "author_id")
            found.update(((kind, pk), author) for pk, author in pairs if pk in ids)
            continue
        ordered = sorted(ids)
        for start in range(0, len(ordered), _CHUNK):
            chunk = teachings.filter(pk__in=ordered[start : start + _CHUNK])
            found.update(((kind, pk), a) for pk, a in chunk.values_list("pk", "author_id"))
    return found


def teaching_columns_fill(*, space: Space, rows: list[Contradiction]) -> None:
    """Set the teaching and author columns of new (unsaved) rows from their ``teachings``."""
    refs = {(ref["type"], int(ref["id"])) for row in rows for ref in row.teachings[:2]}
    authors = teaching_authors(space=space, refs=refs) if refs else {}
    for row in rows:
        pair = [(ref["type"], int(ref["id"])) for ref in row.teachings[:2]]
        if pair:
            row.first, row.first_author = ref_text(row.teachings[0]), authors.get(pair[0])
        if len(pair) > 1:
            row.second, row.second_author = ref_text(row.teachings[1]), authors.get(pair[1])
