"""Text values: one normalisation used everywhere, word counts, highlights, near-duplicates.

A text value is stored and shown as the person wrote it. Everything that *reads* it — the
condition language, the consensus engine, the learner — reads its normalised form, made by
``normalise`` and nothing else:

- zero-width characters are removed (U+200B, U+200C, U+200D, U+2060, U+FEFF and the soft
  hyphen U+00AD): they are invisible, so a rule must not miss "check out" because a
  U+FEFF sits inside it (the YouTube spam data has one in 1,548 of 1,956 comments);
- Unicode NFKC: compatibility forms become their plain letters (full-width "ｃｈｅｃｋ",
  ligatures, superscripts);
- for matching words and phrases, the result is case-folded (``fold``: "Straße" matches
  "STRASSE").

A *word* is a run of letters, digits or ``_`` (Python's ``\\w``); ``words(x)`` counts
whitespace-separated tokens ("cool video!" has 2), as a person counts them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_DROP_ZERO_WIDTH = dict.fromkeys(map(ord, ZERO_WIDTH))
DEFAULT_MAX_LENGTH = 10_000
MAX_MAX_LENGTH = 100_000
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """The form every reader matches against (case kept: patterns may care about case)."""
    stripped = text.translate(_DROP_ZERO_WIDTH)
    if stripped.isascii():
        return stripped  # NFKC leaves ASCII alone: the common case costs one scan
    return unicodedata.normalize("NFKC", stripped)


def fold(normalised: str) -> str:
    """Case-folded normalised text, what words and phrases are matched against."""
    return normalised.lower() if normalised.isascii() else normalised.casefold()


def word_count(normalised: str) -> int:
    return len(normalised.split())


def near_duplicate_key(text: str) -> str:
    """Equal for texts a person reads as the same case: folded, punctuation and spacing
    ignored ("Check out my channel!!" and "check out  my channel")."""
    return _NOT_WORD.sub(" ", fold(normalise(text))).strip()


def text_value_problem(value: object, max_length: int) -> tuple[str, str] | None:
    """``(code, message)`` for a value a text feature refuses, None when it is fine.

    Refused: anything but a str, texts over ``max_length`` characters (counted as written),
    NUL characters and lone surrogates (they cannot be stored in PostgreSQL or encoded as
    UTF-8)."""
    if not isinstance(value, str):
        return "wrong_type", "takes a text."
    if len(value) > max_length:
        return "too_long", f"has at most {max_length:,} characters (this one has {len(value):,})."
    if "\x00" in value:
        return "invalid_text", "cannot contain NUL characters (\\u0000)."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "invalid_text", "contains an invalid character (a lone UTF-16 surrogate)."
    return None


# --- highlights ------------------------------------------------------------------------------


def folded_with_offsets(text: str, case_fold: bool = True) -> tuple[str, list[int]]:
    """``fold(normalise(text))`` (``normalise(text)`` without ``case_fold``) built piece by
    piece, with, for each of its characters, the offset in ``text`` of the character it came
    from (so matches found on that form can be highlighted in the text as written). A base
    character and the combining marks after it are normalised together, as NFKC sees them."""
    pieces: list[str] = []
    offsets: list[int] = []
    start = 0
    for end in range(1, len(text) + 1):
        if end < len(text) and unicodedata.combining(text[end]):
            continue  # keep a base character and its marks together
        piece = normalise(text[start:end])
        piece = fold(piece) if case_fold else piece
        pieces.append(piece)
        offsets.extend([start] * len(piece))
        start = end
    return "".join(pieces), offsets


Finder = Callable[[str, str], list[tuple[int, int]]]


def highlight_spans(text: str, finders: list[Finder]) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of ``text`` as written that the ``finders`` match, merged and
    sorted. A finder maps (normalised, folded) forms to spans of the folded one."""
    folded, offsets = folded_with_offsets(text)
    if not offsets:
        return []
    normalised = normalise(text)
    spans: list[tuple[int, int]] = []
    for finder in finders:
        for start, end in finder(normalised, folded):
            if end <= start:
                continue
            first = offsets[start]
            last = offsets[end - 1]
            spans.append((first, _after(text, last)))
    return _merged(spans)


def _after(text: str, offset: int) -> int:
    end = offset + 1
    while end < len(text) and unicodedata.combining(text[end]):
        end += 1
    return end


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
