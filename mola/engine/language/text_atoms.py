"""The tests a condition makes on a text feature, and how they run over a column.

- ``Phrase``: ``comment contains "check out"`` — the words in this order, on word
  boundaries, any whitespace between them, case-folded: "my" never fires inside "mystery".
- ``Substring``: ``comment contains_text "my"`` — a raw substring of the folded text (what
  Snorkel's keyword functions test; "my" fires inside "mystery").
- ``Pattern``: ``comment matches /check.*out/i`` — a regular expression run by RE2 on the
  normalised text (case kept unless the ``i`` flag is given). RE2 runs in time linear in
  the text: no pattern can backtrack catastrophically. It has no look-around and no
  back-references; such a pattern is refused with ``bad_pattern``.

Atoms are small frozen values (hashable): regions keep them in sets, and the compiled
matcher of each is built once per process.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import re2

from mola.engine.language.errors import ConditionError
from mola.engine.text import fold, normalise

MAX_PATTERN_LENGTH = 1000  # characters of one pattern
MAX_PATTERN_MEMORY = 1 << 20  # bytes RE2 may use for one compiled pattern
MAX_PROGRAM_SIZE = 20_000  # RE2 instructions: 10,000 alternatives are far past it
PATTERN_FLAGS = frozenset("ims")


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]  # folded, non-empty

    def __str__(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Substring:
    text: str  # folded, non-empty

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Pattern:
    source: str
    flags: str = ""  # sorted subset of "ims"

    def __str__(self) -> str:
        return f"/{self.source}/{self.flags}"


Atom = Union[Phrase, Substring, Pattern]  # noqa: UP007


def phrase(text: str, position: int | None) -> Phrase:
    """The phrase of ``contains "..."`` (refuses a text with no word in it)."""
    words = tuple(fold(normalise(text)).split())
    if not words:
        raise ConditionError(
            "bad_string", "contains needs a word or a phrase, not an empty text.", position
        )
    return Phrase(words)


def substring(text: str, position: int | None) -> Substring:
    folded = fold(normalise(text))
    if not folded:
        raise ConditionError("bad_string", "contains_text needs a non-empty text.", position)
    return Substring(folded)


def pattern(literal: str, position: int) -> Pattern:
    """The pattern of ``/source/flags`` as written in a condition, compiled once to make sure
    RE2 takes it (raises ``bad_pattern`` with the position of the problem)."""
    body_end = literal.rfind("/")
    source, flags = literal[1:body_end], literal[body_end + 1 :]
    unknown = set(flags) - PATTERN_FLAGS
    if unknown:
        raise ConditionError(
            "bad_pattern",
            f"Unknown pattern flag {sorted(unknown)[0]!r}: use i (ignore case), s (. matches a "
            "line break) or m (^ and $ at every line).",
            position + body_end + 1,
        )
    if len(source) > MAX_PATTERN_LENGTH:
        raise ConditionError(
            "bad_pattern", f"A pattern has at most {MAX_PATTERN_LENGTH} characters.", position
        )
    atom = Pattern(source.replace("\\/", "/"), "".join(sorted(set(flags))))
    try:
        compiled_pattern(atom)
    except _PatternProblem as problem:
        offset = problem.offset if problem.offset is not None else 0
        raise ConditionError("bad_pattern", problem.message, position + 1 + offset) from None
    return atom


class _PatternProblem(Exception):
    def __init__(self, message: str, offset: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@functools.lru_cache(maxsize=4096)
def compiled_pattern(atom: Pattern) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PATTERN_MEMORY
    options.case_sensitive = "i" not in atom.flags
    options.dot_nl = "s" in atom.flags
    source = f"(?m){atom.source}" if "m" in atom.flags else atom.source
    try:
        compiled = re2.compile(source, options)
    except re2.error as error:
        raise _describe_re2_error(error, atom.source) from None
    if compiled.programsize > MAX_PROGRAM_SIZE:
        raise _PatternProblem(
            "This pattern is too large to run safely; split it into several rules or use "
            "contains any [...].",
            None,
        )
    return compiled


def _describe_re2_error(error: Exception, source: str) -> _PatternProblem:
    raw = error.args[0] if error.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    reason, _, fragment = text.partition(": ")
    offset = source.find(fragment) if fragment else -1
    hints = {
        "invalid perl operator": "look-around such as (?=...) or (?<=...) is not supported",
        "invalid escape sequence": "back-references such as \\1 are not supported",
        "pattern too large": "the pattern is too large to run safely",
    }
    hint = next((words for key, words in hints.items() if reason.startswith(key)), "")
    message = f"This pattern cannot be used: {reason or 'invalid pattern'}"
    if fragment:
        message += f" at {fragment[:40]!r}"
    message += f" ({hint})." if hint else "."
    return _PatternProblem(message, offset if offset >= 0 else None)


@functools.lru_cache(maxsize=4096)
def pattern_test(atom: Pattern) -> Callable[[str], bool]:
    """Whether RE2 finds ``atom`` in a text: the compiled program without capture groups,
    called below the wrapper's match objects (a quarter of ``search``'s time per text)."""
    options = compiled_pattern(atom).options
    tester = re2.Options()
    for name in re2.Options.NAMES:
        setattr(tester, name, getattr(options, name))
    tester.never_capture = True
    source = f"(?m){atom.source}" if "m" in atom.flags else atom.source
    program = re2.compile(source, tester)._regexp.Match
    unanchored = re2._Anchor.UNANCHORED

    def test(text: str) -> bool:
        encoded = text.encode("utf-8")
        return program(unanchored, encoded, 0, len(encoded))[0][0] >= 0

    return test


@functools.lru_cache(maxsize=4096)
def phrase_regex(atom: Phrase) -> re.Pattern[str]:
    """Our own pattern for a phrase (only escaped literals, so Python's re is safe here):
    word boundaries at an end that is a word character, any whitespace between words."""
    body = r"\s+".join(re.escape(word) for word in atom.words)
    first, last = atom.words[0][0], atom.words[-1][-1]
    before = r"(?<!\w)" if _is_word_char(first) else ""
    after = r"(?!\w)" if _is_word_char(last) else ""
    return re.compile(before + body + after)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


# --- running atoms -------------------------------------------------------------------------


def holds(atom: Atom, normalised: str, folded: str) -> bool:
    """Whether one text (given in both forms) satisfies ``atom``."""
    if isinstance(atom, Phrase):
        return phrase_regex(atom).search(folded) is not None
    if isinstance(atom, Substring):
        return atom.text in folded
    return pattern_test(atom)(normalised)


def atom_mask(atom: Atom, normalised: np.ndarray, folded: np.ndarray) -> np.ndarray:
    """Which texts of a column (both forms, object arrays) satisfy ``atom``."""
    n = len(normalised)
    if isinstance(atom, Phrase):
        # A substring test in C first: most texts lack the phrase's longest word outright.
        search, needle = phrase_regex(atom).search, max(atom.words, key=len)
        return np.fromiter((needle in t and search(t) is not None for t in folded), bool, count=n)
    if isinstance(atom, Substring):
        needle = atom.text
        return np.fromiter((needle in t for t in folded), bool, count=n)
    return np.fromiter(map(pattern_test(atom), normalised), bool, count=n)


def atom_spans(atom: Atom, normalised: str, folded: str) -> list[tuple[int, int]]:
    """Where ``atom`` matches, as spans of ``folded`` (for highlights)."""
    if isinstance(atom, Phrase):
        return [m.span() for m in phrase_regex(atom).finditer(folded)]
    if isinstance(atom, Substring):
        spans, start = [], folded.find(atom.text)
        while start >= 0:
            spans.append((start, start + len(atom.text)))
            start = folded.find(atom.text, start + len(atom.text))
        return spans
    # A pattern runs on the case-kept form; its spans fit the folded one when folding kept
    # the length (it does except for a few letters such as "ß").
    subject = normalised if len(normalised) == len(folded) else folded
    return [m.span() for m in compiled_pattern(atom).finditer(subject) if m.end() > m.start()]


def describe_atom(atom: Atom) -> str:
    if isinstance(atom, Phrase):
        return f'contains "{atom}"'
    if isinstance(atom, Substring):
        return f'contains_text "{atom}"'
    return f"matches {atom}"
