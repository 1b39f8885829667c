"""The API's JSON parser: a body is bounded, parsed, and checked before any view sees it.

What a hostile body used to do, and what it gets now (status, ``code``):

- larger than the endpoint's limit: Django's HTML 400 → 413 ``too_large``, refused from
  ``Content-Length`` before it is read (a chunked body is read up to the limit, no further);
- nested thousands deep: a ``RecursionError`` and a 500 → 400 ``too_deep``; the parser
  itself refuses past 1,024 levels, and ``MAX_DEPTH`` bounds what views receive;
- integers past 64 bits (ids ≥ 2**63): an ``OverflowError`` on SQLite and a 500 → 400
  ``out_of_range`` naming the field;
- NUL characters and lone surrogates in strings: PostgreSQL refuses them in text, a 500 →
  400 ``invalid_text`` naming the field;
- form-encoded bodies: DRF reads a blank form value of an optional field as "not given",
  so ``role=`` changed nothing and answered 200, and ``settings={}`` was ignored; here a
  form is read as the plain dictionary of its values, checked exactly as JSON is.

orjson parses (10,000 predict instances: ~10 ms, the standard library ~40 ms); what it
refuses goes to the standard library's strict parser for the usual parse error.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser

from mola.errors import InvalidInput, TooLarge

MAX_DEPTH = 32  # deeper than any body of the contract (a batch of examples is 4)
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # what every database stores


class JSONBodyParser(BaseParser):
    """JSON of at most ``max_body`` bytes (default: ``DATA_UPLOAD_MAX_MEMORY_SIZE``).

    Not a ``JSONParser`` subclass, so DRF hands it the request stream rather than
    ``request.body`` (which raises Django's HTML 400 past the limit)."""

    media_type = "application/json"
    max_body: int | None = None

    def limit(self) -> int:
        return self.max_body or settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = self.limit()
        request = (parser_context or {}).get("request")
        if request is not None and _content_length(request) > limit:
            raise _too_large(limit)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise _too_large(limit)
        return json_checked(raw)


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large(limit: int) -> TooLarge:
    size = f"{limit / 2**20:.1f} MB" if limit >= 2**20 else f"{limit // 1024} kB"
    return TooLarge(f"The request body is larger than this endpoint takes ({size}).")


def json_checked(raw: bytes) -> Any:
    """Parse ``raw`` and check depth, integer range and characters (see the module)."""
    try:
        data = orjson.loads(raw)
        strings_suspect = b"\\u0000" in raw
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):
            raise _too_deep() from None
        data = _strict_loads(raw)
        strings_suspect = True  # lone surrogates are why orjson may have refused it
    _check(data, strings_suspect)
    return data


def _strict_loads(raw: bytes) -> Any:
    def refuse(constant: str):
        raise ValueError(f"{constant} is not valid JSON")

    try:
        return json.loads(raw, parse_constant=refuse)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as error:
        raise ParseError(f"JSON parse error - {error}") from None


def value_checked(data: Any, field: str | None = None) -> Any:
    """``data`` read some other way (a line of NDJSON, a CSV file) held to the same checks
    as a JSON body: depth, integer range, no NUL or lone surrogate; problems named under
    ``field``."""
    try:
        _check(data, strings=True)
    except InvalidInput as error:
        raise (error.prefixed(field) if field else error) from None
    return data


def _too_deep() -> InvalidInput:
    return InvalidInput(
        f"The body is nested more than {MAX_DEPTH} levels deep.", code="too_deep", field=None
    )


def _check(data: Any, strings: bool) -> None:
    """Walk ``data`` without recursion: depth, integers within 64 bits (a float is left to
    the fields: none stores one as an id), and, when ``strings``, no NUL or lone surrogate
    in any string or key.

    The walk keeps each value's parent and key rather than its path: the path is spelled
    out only for the value refused (10,000 predict instances: 136 → ~40 ms of CPU). A flat
    object (only floats, booleans, nulls, and strings when not checked) passes on its
    values' types, read in C, with no frame per value: those 10,000, ~16 → ~5 ms."""
    stack: list[tuple[Any, Any, int]] = [(data, None, 1)]  # (value, (parent, key), depth)
    plain = _PLAIN if strings else _PLAIN | {str}
    while stack:
        value, where, depth = stack.pop()
        kind = type(value)
        if kind is dict:
            if depth > MAX_DEPTH:
                raise _too_deep()
            if not strings and plain.issuperset(map(type, value.values())):
                continue  # a flat object (a predict instance): its types read in C
            for key, item in value.items():
                if strings:
                    _check_text(key, where)
                if type(item) in plain:  # most values: nothing to check, no frame to push
                    continue
                stack.append((item, (where, key), depth + 1))
        elif kind is list:
            if depth > MAX_DEPTH:
                raise _too_deep()
            flat = not strings and depth < MAX_DEPTH  # its flat objects need no frame
            for index, item in enumerate(value):
                if type(item) in plain:
                    continue
                if flat and type(item) is dict and plain.issuperset(map(type, item.values())):
                    continue
                stack.append((item, (where, index), depth + 1))
        elif kind is int:
            if not INT_MIN <= value <= INT_MAX:
                raise _out_of_range(_path(where))
        elif strings and kind is str:
            _check_text(value, where)
        elif kind not in _EXACT and isinstance(value, (dict, list, int, str)):
            # a subclass (not from a parser): checked as its base, one level at a time
            stack.append((_plain(value), where, depth))


# Values with nothing to check: floats, booleans, null (and strings, unless ``strings``;
# an int is checked for its range). Only exact types: a bool is an int subclass.
_PLAIN = frozenset({float, bool, type(None)})
_EXACT = frozenset({dict, list, int, str, float, bool, type(None)})


def _plain(value: Any) -> Any:
    for base in (dict, list, str, int):
        if isinstance(value, base):
            return base(value)
    return value


def _path(where: Any) -> str | None:
    """``a.0.b`` from a chain of (parent, key) pairs; None at the top."""
    keys = []
    while where is not None:
        where, key = where
        keys.append(str(key))
    return ".".join(reversed(keys)) or None


def _out_of_range(path: str | None) -> InvalidInput:
    return InvalidInput(
        "Numbers must lie between -2^63 and 2^63 - 1.", code="out_of_range", field=path
    )


INVALID_TEXT = "Text may not contain NUL characters or unpaired surrogates."


def text_is_clean(text: str) -> bool:
    """No NUL and no unpaired surrogate: PostgreSQL stores neither in text. The one rule of
    the API's bodies and of every service's text checks (``teaching.services.texts``)."""
    return "\x00" not in text and (text.isascii() or not _has_lone_surrogate(text))


def _check_text(text: str, where: Any) -> None:
    if not text_is_clean(text):
        raise InvalidInput(INVALID_TEXT, code="invalid_text", field=_path(where))


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class StrictFormParser(FormParser):
    """Form bodies as a plain dictionary (the last value of each field), so serializers
    check them exactly as JSON: a blank value is a blank value, not a missing field."""

    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        form = super().parse(stream, media_type, parser_context)
        data = {key: form[key] for key in form}
        _check(data, strings=True)
        return data


class StrictMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        parsed.data = {key: parsed.data[key] for key in parsed.data}
        _check(parsed.data, strings=True)
        return parsed
