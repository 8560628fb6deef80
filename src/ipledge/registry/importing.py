"""Patent uploads (JSON or CSV): decode every row on its own so good rows land and bad rows are listed."""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from ipledge.errors import InvalidInput, msgspec_field_error
from ipledge.registry import schemas as s
from ipledge.strict import decode_json, nul_path

MAX_ROWS = 20_000
_LIST_FIELDS = {"ipc_codes", "family_offices"}
_INT_FIELDS = {"claims_total", "claims_independent", "forward_citations", "backward_citations"}
_BOOL_FIELDS = {"fees_paid"}
_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}


def decode_json_rows(body: bytes) -> list[Any]:
    """A JSON upload is a list of patents or ``{"patents": [...]}``."""
    doc = decode_json(body)
    if isinstance(doc, dict) and isinstance(doc.get("patents"), list):
        doc = doc["patents"]
    if not isinstance(doc, list):
        raise InvalidInput("body", '须为专利数组或 {"patents": [...]} / expected a list of patents')
    _check_size(len(doc))
    return doc


def _csv_value(field: str, text: str) -> Any:
    text = text.strip()
    if field in _LIST_FIELDS:
        return [part.strip() for part in text.replace("|", ";").split(";") if part.strip()]
    if field in _INT_FIELDS:
        try:
            return int(text)
        except ValueError:
            return text  # strict conversion below names the field
    if field in _BOOL_FIELDS:
        low = text.lower()
        return True if low in _TRUE else False if low in _FALSE else text
    return text


def decode_csv_rows(body: bytes) -> list[Any]:
    """A CSV upload: a header row with the field names of the JSON form (lists separated by ``;``)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("body", "CSV 须为 UTF-8 编码 / CSV must be UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    known = set(s.PatentCreate.__struct_fields__) - {"events"}
    unknown = [f for f in reader.fieldnames or [] if f not in known]
    if unknown:
        raise InvalidInput("header", f"未知列 / unknown columns: {', '.join(unknown)}")
    rows: list[Any] = []
    for record in reader:
        rows.append({k: _csv_value(k, v) for k, v in record.items() if k and v is not None and v.strip() != ""})
        _check_size(len(rows))
    return rows


def _check_size(n: int) -> None:
    if n > MAX_ROWS:
        raise InvalidInput("body", f"单次最多导入 {MAX_ROWS} 条 / at most {MAX_ROWS} rows per upload")


def validate_rows(raw: list[Any]) -> tuple[list[tuple[int, s.PatentCreate]], list[s.RowError]]:
    """Convert each row strictly; return the good ones with their row numbers and the bad ones with errors."""
    good: list[tuple[int, s.PatentCreate]] = []
    bad: list[s.RowError] = []
    seen: set[str] = set()
    for index, item in enumerate(raw, start=1):
        number = item.get("number") if isinstance(item, dict) else None
        nul = nul_path(item, "")
        if nul is not None:
            bad.append(
                row_error(
                    index,
                    number if isinstance(number, str) else None,
                    nul or "body",
                    "不能包含 NUL 字符 / must not contain NUL characters",
                )
            )
            continue
        try:
            patent = msgspec.convert(item, s.PatentCreate, strict=True)
        except msgspec.ValidationError as exc:
            err = msgspec_field_error(exc)
            bad.append(
                s.RowError(
                    row=index,
                    number=number if isinstance(number, str) else None,
                    errors=[{"field": err.field, "message": err.message}],
                )
            )
            continue
        if patent.number in seen:
            bad.append(row_error(index, patent.number, "number", "上传中重复的申请号 / duplicate in this upload"))
            continue
        seen.add(patent.number)
        good.append((index, patent))
    return good, bad


def row_error(row: int, number: str | None, field: str, message: str) -> s.RowError:
    return s.RowError(row=row, number=number, errors=[{"field": field, "message": message}])
