from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipledge.identifiers import (
    IdentifierError,
    credit_code_check_char,
    make_credit_code,
    make_patent_number,
    patent_type_of,
    validate_credit_code,
    validate_patent_number,
)

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def test_known_patent_number_from_the_architecture_doc() -> None:
    assert validate_patent_number("201710601862.3") == "201710601862.3"
    assert validate_patent_number("CN201710601862.3") == "201710601862.3"
    assert validate_patent_number("ZL2017106018623") == "201710601862.3"
    assert patent_type_of("201710601862.3") == "invention"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("201710601862.4", "校验位"),
        ("20171060186.3", "12位"),
        ("201740601862.3", "第5位"),
        ("abc", "12位"),
    ],
)
def test_bad_patent_numbers_are_rejected(value: str, fragment: str) -> None:
    with pytest.raises(IdentifierError, match=fragment):
        validate_patent_number(value)


def test_patent_check_digit_ten_is_x() -> None:
    # Find a 12-digit number whose weighted sum is 10 mod 11 and check it is written X.
    number = next(
        make_patent_number(f"2019100{i:05d}")
        for i in range(100000)
        if make_patent_number(f"2019100{i:05d}").endswith("X")
    )
    assert validate_patent_number(number.lower()) == number


@given(st.from_regex(r"^20[0-2][0-9][12389][0-9]{7}$", fullmatch=True))
def test_generated_patent_numbers_validate_and_any_other_check_digit_fails(digits: str) -> None:
    number = make_patent_number(digits)
    assert validate_patent_number(number) == number
    for other in "0123456789X":
        if other != number[-1]:
            with pytest.raises(IdentifierError):
                validate_patent_number(number[:-1] + other)


def test_known_credit_code() -> None:
    # A published example code (国家税务总局 documentation sample).
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert validate_credit_code("91350100m000100y43") == "91350100M000100Y43"


@given(st.text(alphabet=CREDIT_ALPHABET, min_size=10, max_size=10), st.from_regex(r"^[1-6][0-9]{5}$", fullmatch=True))
def test_generated_credit_codes_validate_and_wrong_check_fails(tail: str, division: str) -> None:
    code = make_credit_code("91" + division + tail[:9])
    assert validate_credit_code(code) == code
    wrong = next(c for c in CREDIT_ALPHABET if c != code[-1])
    with pytest.raises(IdentifierError, match="校验位"):
        validate_credit_code(code[:-1] + wrong)


@pytest.mark.parametrize("value", ["", "91350100M000100Y4", "91350100M000100YI3", "9135010OM000100Y43"])
def test_malformed_credit_codes(value: str) -> None:
    with pytest.raises(IdentifierError):
        validate_credit_code(value)
