"""The identifiers users see: 统一社会信用代码 (GB 32100-2015) and CN patent application numbers.

Both carry a check character; a value with a wrong one is rejected, never stored.
"""

from __future__ import annotations

import re
from typing import Literal

_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")

_PATENT_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_PATENT_RE = re.compile(r"^(?:CN|ZL)?\s*([0-9]{12})\.?([0-9X])$", re.IGNORECASE)

PatentType = Literal["invention", "utility_model", "design", "pct_invention", "pct_utility_model"]
_TYPE_BY_DIGIT: dict[str, PatentType] = {
    "1": "invention",
    "2": "utility_model",
    "3": "design",
    "8": "pct_invention",
    "9": "pct_utility_model",
}
#: Statutory term in years from filing, per type (专利法 art. 42, as amended 2020: designs 15 years).
TERM_YEARS: dict[PatentType, int] = {
    "invention": 20,
    "utility_model": 10,
    "design": 15,
    "pct_invention": 20,
    "pct_utility_model": 10,
}


class IdentifierError(ValueError):
    """An identifier is malformed or its check character is wrong."""


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters."""
    total = sum(_CREDIT_ALPHABET.index(ch) * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Normalise and validate a 统一社会信用代码; return it upper-cased.

    Raises:
        IdentifierError: wrong length or alphabet, or a wrong check character.
    """
    code = value.strip().upper()
    if not _CREDIT_RE.match(code):
        raise IdentifierError("统一社会信用代码须为18位（数字或大写字母，不含 I、O、Z、S、V） / must be 18 characters")
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise IdentifierError(f"统一社会信用代码校验位错误，应为 {expected} / check character should be {expected}")
    return code


def make_credit_code(first17: str) -> str:
    """Append the check character to 17 characters (used by demo data and tests)."""
    return first17 + credit_code_check_char(first17)


def patent_check_digit(digits12: str) -> str:
    """Return the check digit (0-9 or X) of a 12-digit CN application number."""
    total = sum(int(d) * w for d, w in zip(digits12, _PATENT_WEIGHTS, strict=True))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def validate_patent_number(value: str) -> str:
    """Normalise a CN application number to ``NNNNNNNNNNNN.C`` and validate its check digit.

    Accepts an optional ``CN``/``ZL`` prefix and a missing dot.

    Raises:
        IdentifierError: malformed, an unknown type digit, or a wrong check digit.
    """
    match = _PATENT_RE.match(value.strip())
    if not match:
        raise IdentifierError(
            "专利申请号须为12位数字、小数点和校验位，如 201710601862.3 / must look like 201710601862.3"
        )
    digits, check = match.group(1), match.group(2).upper()
    if digits[4] not in _TYPE_BY_DIGIT:
        raise IdentifierError(f"申请号第5位 {digits[4]} 不是有效的专利类型 / fifth digit is not a patent type")
    expected = patent_check_digit(digits)
    if check != expected:
        raise IdentifierError(f"专利申请号校验位错误，应为 {expected} / check digit should be {expected}")
    return f"{digits}.{check}"


def make_patent_number(digits12: str) -> str:
    """Append the check digit to 12 digits (used by demo data and tests)."""
    return f"{digits12}.{patent_check_digit(digits12)}"


def patent_type_of(number: str) -> PatentType:
    """The patent type encoded in the fifth digit of a validated application number."""
    return _TYPE_BY_DIGIT[number[4]]
