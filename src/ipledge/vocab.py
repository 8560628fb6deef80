"""The shared vocabulary of API types: constrained aliases defined once and reused everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec

from ipledge.identifiers import IdentifierError, validate_credit_code, validate_patent_number
from ipledge.regions import province_code

Yuan = Annotated[float, msgspec.Meta(ge=0, le=1e15, description="Amount in yuan (元), non-negative")]
SignedYuan = Annotated[float, msgspec.Meta(ge=-1e15, le=1e15, description="Amount in yuan (元); may be negative")]
Rate = Annotated[float, msgspec.Meta(ge=0, lt=1, description="A fraction in [0, 1)")]
Share = Annotated[float, msgspec.Meta(ge=0, le=1, description="A fraction in [0, 1]")]
Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=20_000)]
CreditCodeStr = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$",
        description="统一社会信用代码 (GB 32100-2015, with a valid check character)",
        examples=["91440300MA5FUTQ91Q"],
    ),
]
PatentNumberStr = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(?:CN|ZL)?[0-9]{12}\.?[0-9Xx]$",
        description="CN application number: 12 digits, a dot and the check digit",
        examples=["201710601862.3"],
    ),
]
ProvinceStr = Annotated[
    str,
    msgspec.Meta(min_length=2, max_length=20, description="Province: GB/T 2260 code or name", examples=["44", "广东"]),
]
ChainCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,31}$", examples=["ic"])]
IpcCode = Annotated[
    str,
    msgspec.Meta(pattern=r"^[A-H][0-9]{2}[A-Z](?: ?[0-9]{1,4}/[0-9]{1,6})?$", examples=["H01L 21/02", "G06N"]),
]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$", max_length=254)]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9\- ]{5,20}$")]


def fail(field: str, message: str) -> ValueError:
    """An error for ``__post_init__`` whose message starts with the field name.

    msgspec turns a ValueError raised in ``__post_init__`` into a ValidationError carrying the
    path of the struct (``- at `$.profile```); ``errors.msgspec_field_error`` joins the two.
    """
    return ValueError(f"{field}: {message}")


def check_credit_code(field: str, value: str) -> str:
    try:
        return validate_credit_code(value)
    except IdentifierError as exc:
        raise fail(field, str(exc)) from None


def check_patent_number(field: str, value: str) -> str:
    try:
        return validate_patent_number(value)
    except IdentifierError as exc:
        raise fail(field, str(exc)) from None


def check_province(field: str, value: str) -> str:
    code = province_code(value)
    if code is None:
        raise fail(field, f"未知省份 {value!r} / unknown province")
    return code


def check_not_future(field: str, value: date | None) -> None:
    if value is not None and value > datetime.now(UTC).date():
        raise fail(field, "日期不能晚于今天 / date is in the future")


def set_field(obj: Any, name: str, value: Any) -> None:
    """Normalise a field inside ``__post_init__`` (works for frozen Structs too)."""
    msgspec.structs.force_setattr(obj, name, value)
