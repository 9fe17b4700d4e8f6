"""Mask Chinese personal identifiers in text and in nested event data (pure functions).

Masks 身份证号 (18 digits with a valid ISO 7064 check digit, or the old 15-digit
form), mainland mobile numbers, Luhn-valid bank-card numbers and e-mail
addresses. Amounts, dates and short hotlines (95555, 400-820-5555, 12378) are
left alone: every pattern needs 11+ digits and a checksum or a fixed shape.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Callable

ID_CARD = "[身份证号]"
PHONE = "[手机号]"
BANK_CARD = "[银行卡号]"
EMAIL = "[邮箱]"

_SEP = r"[ \-\u00a0\u3000－–—]"  # one separator between digit groups (\d also matches full-width)
_START = r"(?<![\dA-Za-z])"
_END = r"(?![\dA-Za-z])"
_86 = "[8８][6６]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+[@＠][A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_ID18 = re.compile(_START + rf"\d{{6}}{_SEP}?\d{{8}}{_SEP}?\d{{3}}[\dXx]" + _END)
_ID15 = re.compile(_START + r"\d{15}" + _END)
_PHONE = re.compile(
    r"(?<![\dA-Za-z+＋])"
    rf"(?:(?:[+＋]|[0０]{{2}})?{_86}{_SEP}?|[(（](?:[+＋]|[0０]{{2}})?{_86}[)）]{_SEP}?)?"
    rf"[1１][3-9３-９]\d(?:{_SEP}?\d{{4}}){{2}}" + _END
)
_CARD = re.compile(
    _START + rf"(?:\d{{4}}(?:{_SEP}?\d{{4}}){{2,3}}(?:{_SEP}?\d{{1,3}})?|\d{{6}}{_SEP}\d{{7,13}})" + _END
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit() or c in "Xx")


def id18_valid(number: str) -> bool:
    """ISO 7064 MOD 11-2 check digit of an 18-character ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def id15_plausible(number: str) -> bool:
    """Old IDs have no checksum: require a region code and a real YYMMDD birth date."""
    if len(number) != 15 or number[0] not in "12345678":
        return False
    try:
        date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return True


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _masking(label: str, accept: Callable[[str], bool]) -> Callable[["re.Match[str]"], str]:
    def replace(match: "re.Match[str]") -> str:
        return label if accept(_digits(match.group())) else match.group()

    return replace


_STEPS = (
    (_EMAIL, lambda _: EMAIL),
    (_ID18, _masking(ID_CARD, id18_valid)),
    (_ID15, _masking(ID_CARD, id15_plausible)),
    (_PHONE, lambda _: PHONE),
    (_CARD, _masking(BANK_CARD, lambda d: 13 <= len(d) <= 19 and luhn_valid(d))),
)


def redact_text(text: str) -> str:
    """The text with every identifier replaced by its label."""
    if not text or not any(c.isdigit() or c in "@＠" for c in text):
        return text
    for pattern, replace in _STEPS:
        text = pattern.sub(replace, text)
    return text


def redact_value(value: Any) -> Any:
    """A copy of `value` with all strings redacted, recursively; the input is not modified."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_value(item) for item in value)
    return value
