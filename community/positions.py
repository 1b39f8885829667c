"""Positions in a thread: who supports which teaching, counted raw and by expertise.

Each member has one position per teaching: their latest post that names teachings
(``supports``) says which ones they support now, so changing one's mind replaces the old
position instead of adding to it. A post without ``supports`` is discussion only and leaves
the position as it was. The weighted count adds each supporter's expertise weight, taken
at the time of the post that states the position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

# Documented in README ("Positions and reputation"): what a master says counts four times
# what a novice says, never more, so a crowd of novices can still outweigh one master.
EXPERTISE_WEIGHTS: dict[str, int] = {"novice": 1, "intermediate": 2, "expert": 3, "master": 4}


class PostLike(Protocol):
    author_id: int
    expertise: str
    supports: list


def expertise_weight(expertise: str) -> int:
    return EXPERTISE_WEIGHTS.get(expertise, 1)


def positions_tally(
    *,
    posts: Iterable[PostLike],
    teachings: Sequence[dict[str, Any]],
    usernames: dict[int, str],
) -> list[dict[str, Any]]:
    """Per teaching of the thread (in its order): raw and weighted support, and who.

    ``posts`` in the order they were written; ``usernames`` maps author ids to names.
    """
    latest: dict[int, PostLike] = {}
    for post in posts:
        if post.supports:
            latest[post.author_id] = post
    tally = []
    for ref in teachings:
        key = (ref["type"], int(ref["id"]))
        supporters = [
            {
                "username": usernames.get(author_id, ""),
                "expertise": post.expertise,
                "weight": expertise_weight(post.expertise),
            }
            for author_id, post in latest.items()
            if key in {(s["type"], int(s["id"])) for s in post.supports}
        ]
        supporters.sort(key=lambda s: (-s["weight"], s["username"]))
        tally.append(
            {
                "teaching": {"type": key[0], "id": key[1]},
                "raw": len(supporters),
                "weighted": sum(s["weight"] for s in supporters),
                "supporters": supporters,
            }
        )
    return tally
