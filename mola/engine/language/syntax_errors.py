"""Lark's parse errors rewritten in words a coach reads, with the offending position."""

from __future__ import annotations

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from mola.engine.language.errors import ConditionError

# Terminal names of grammar.lark in the order a message lists them.
TERMINAL_WORDS: dict[str, str] = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a text in double quotes ("...")',
    "TRUE": "'true'",
    "FALSE": "'false'",
    "LPAR": "'('",
    "NOT": "'not'",
    "COMP_OP": "a comparison (<, <=, >, >=, ==, !=)",
    "BETWEEN": "'between'",
    "IN": "'in'",
    "LSQB": "'['",
    "COMMA": "','",
    "RSQB": "']'",
    "CONTAINS": "'contains'",
    "CONTAINS_TEXT": "'contains_text'",
    "MATCHES": "'matches'",
    "ANY": "'any'",
    "ALL": "'all'",
    "PATTERN": "a pattern in slashes (/.../)",
    "MEASURE": "words(...) or length(...)",
    "AND": "'and'",
    "OR": "'or'",
    "RPAR": "')'",
    "$END": "the end of the condition",
}
KEYWORDS = frozenset(
    {"and", "or", "not", "in", "between", "true", "false", "contains", "contains_text"}
    | {"matches", "any", "all"}
)


def describe_lark_error(error: UnexpectedInput, text: str) -> ConditionError:
    """One ConditionError (code ``syntax_error``) for any of lark's ``UnexpectedInput``."""
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, text)
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, text)
    if isinstance(error, UnexpectedEOF):
        return ConditionError(
            "syntax_error",
            f"The condition ends too early; expected {_expected(error.expected)}.",
            len(text),
        )
    position = getattr(error, "pos_in_stream", None)
    return ConditionError("syntax_error", "The condition cannot be read here.", position)


def _unexpected_character(error: UnexpectedCharacters, text: str) -> ConditionError:
    position = error.pos_in_stream
    char = text[position] if 0 <= position < len(text) else ""
    message = f"Unexpected character {_show_char(char)} at position {position}."
    hint = _character_hint(char, text, position)
    if hint:
        message += " " + hint
    else:
        message += " This character has no meaning in a condition."
    return ConditionError("syntax_error", message, position)


def _character_hint(char: str, text: str, position: int) -> str:
    if char == "=":
        return "To compare, write == (two equal signs)."
    if char == "!":
        return "Write != for 'is not equal to'."
    if char == "'":
        return 'Texts are written in double quotes: "jump".'
    if char == '"':
        return "This text is not closed with a double quote on the same line."
    if char.isalpha():
        return "Names use only the letters A-Z and a-z, digits and _."
    if char in "&|":
        return "Write and / or as words."
    if char == "/":
        return "A pattern in slashes comes after matches: comment matches /check.*out/i."
    return ""


def _unexpected_token(error: UnexpectedToken, text: str) -> ConditionError:
    token = error.token
    expected = _expected(error.accepts or error.expected)
    if token.type == "$END":
        return ConditionError(
            "syntax_error", f"The condition ends too early; expected {expected}.", len(text)
        )
    position = token.start_pos if token.start_pos is not None else None
    message = f"Unexpected {_show_token(token)} at position {position}; expected {expected}."
    if token.type == "NAME" and str(token).lower() in KEYWORDS:
        message += f" Keywords are written in lowercase: {str(token).lower()}."
    return ConditionError("syntax_error", message, position)


def _expected(terminals: set[str] | frozenset[str]) -> str:
    words = [word for name, word in TERMINAL_WORDS.items() if name in terminals]
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _show_token(token: object) -> str:
    value = str(token)
    kind = getattr(token, "type", "")
    if kind == "NAME":
        return f"name {value[:40]!r}"
    if kind == "NUMBER":
        return f"number {value[:40]}"
    if kind == "STRING":
        return f"text {value[:40]}"
    return repr(value[:40])


def _show_char(char: str) -> str:
    if not char:
        return "(end)"
    if char.isprintable():
        return repr(char)
    return f"U+{ord(char):04X}"
