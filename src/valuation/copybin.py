"""PostgreSQL binary COPY rows as NumPy structured arrays (no Python loop per row).

A binary COPY stream is a 19-byte header, then per row an int16 field count and, per field, an
int32 length and the value in network byte order, then an int16 -1 trailer. When every field has a
fixed width (no NULLs, fixed-length text), a row is a fixed-size record, so a whole chunk of rows
decodes with one ``np.frombuffer`` and encodes with one ``tobytes``.

A row sent by ``record_send`` (PostgreSQL's binary form of a composite value, which a statement can return and
concatenate with ``string_agg``) is the same but for an int32 field count and a type oid before each length:
:func:`decode_records` reads such rows.

``numeric(18,2)`` is written as 5 base-10000 digits (weight 3, scale 2); PostgreSQL strips the
leading zero digits when it stores the value.
"""

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
NUMERIC_WIDTH = 18  # 4 int16 header words + 5 digits

Field = tuple[str, Any, int]  # name, NumPy big-endian type (str or dtype), byte width (-1 = NULL)


def row_dtype(fields: Sequence[Field]) -> np.dtype[np.void]:
    """The packed record type of one row: the field count, then each field's length and value."""
    return _layout_of(tuple(fields))[0]


# Rows up to this many are checked with one gather of their count and length bytes; more field by field
# (the gather copies every row's header bytes, slower than the per-field compares on large chunks).
_GATHER_ROWS = 4096


@functools.lru_cache(maxsize=64)
def _layout(
    fields: tuple[Field, ...], record: bool = False
) -> tuple[np.dtype[np.void], NDArray[np.intp], NDArray[np.uint8]]:
    """The row type, and the byte offsets and expected bytes of the field count and every length word.

    ``record``: the layout of ``record_send`` (an int32 count, a type oid before each length; oids unchecked).
    """
    count = ">i4" if record else ">i2"
    spec: list[tuple[str, Any]] = [("_n", count)]
    for name, kind, _ in fields:
        spec += [(f"_oid_{name}", ">u4")] if record else []
        spec += [(f"_len_{name}", ">i4"), (name, kind)]
    dtype: np.dtype[np.void] = np.dtype(spec)
    offsets: list[int] = []
    expected = bytearray()
    words = [("_n", np.array(len(fields), count))]
    words += [(f"_len_{name}", np.array(width, ">i4")) for name, _, width in fields]
    for name, word in words:
        start = dtype.fields[name][1]  # type: ignore[index]
        offsets += range(start, start + word.itemsize)
        expected += word.tobytes()
    return dtype, np.array(offsets, np.intp), np.frombuffer(bytes(expected), np.uint8)


def _layout_of(
    fields: tuple[Field, ...], record: bool = False
) -> tuple[np.dtype[np.void], NDArray[np.intp], NDArray[np.uint8]]:
    """:func:`_layout`, cached unless a field type is unhashable (then the same layout, computed each time)."""
    try:
        return _layout(fields, record)
    except TypeError:
        return _layout.__wrapped__(fields, record)


def decode_records(data: bytes | bytearray | memoryview | None, fields: Sequence[Field]) -> NDArray[np.void]:
    """Decode concatenated ``record_send`` rows (``string_agg(record_send(r), ''::bytea)``; None for no rows).

    Raises:
        ValueError: When a row does not have the expected shape (a NULL or a wider value).
    """
    fields = tuple(fields)
    dtype, offsets, expected = _layout_of(fields, True)
    if data is None:
        return np.zeros(0, dtype)
    if len(data) % dtype.itemsize:
        raise ValueError("record_send rows are not a whole number of fixed-width rows")
    return _checked(np.frombuffer(data, dtype=dtype), memoryview(data), fields, offsets, expected)


def decode_rows(data: bytes | bytearray | memoryview, fields: Sequence[Field]) -> NDArray[np.void]:
    """Decode the rows of a binary COPY body (header and trailer optional) into a structured array.

    Args:
        data: Whole rows, possibly starting with the header and ending with the trailer.
        fields: The fixed-width fields of the query, in order.

    Returns:
        The rows (a view on ``data`` where possible).

    Raises:
        ValueError: When a row does not have the expected shape (a NULL or a wider value).
    """
    view = memoryview(data)
    if view[: len(HEADER)] == HEADER:
        view = view[len(HEADER) :]
    fields = tuple(fields)
    dtype, offsets, expected = _layout_of(fields)
    if len(view) % dtype.itemsize == len(TRAILER) and view[len(view) - 2 :] == TRAILER:
        view = view[: len(view) - 2]
    if len(view) % dtype.itemsize:
        raise ValueError("binary COPY body is not a whole number of fixed-width rows")
    return _checked(np.frombuffer(view, dtype=dtype), view, fields, offsets, expected)


def _checked(
    rows: NDArray[np.void],
    view: memoryview,
    fields: tuple[Field, ...],
    offsets: NDArray[np.intp],
    expected: NDArray[np.uint8],
) -> NDArray[np.void]:
    """``rows`` once every field count and length word is as ``fields`` say."""
    dtype = rows.dtype
    if 0 < rows.size <= _GATHER_ROWS:
        header = np.frombuffer(view, np.uint8).reshape(rows.size, dtype.itemsize)[:, offsets]
        if (header == expected).all():
            return rows  # every count and length as expected (else the checks below name the first wrong one)
    if rows.size and (rows["_n"] != len(fields)).any():
        raise ValueError("unexpected field count in a binary row")
    for name, _, width in fields:
        if rows.size and (rows[f"_len_{name}"] != width).any():
            raise ValueError(f"field {name} is NULL or not {width} bytes wide")
    return rows


def encode_rows(columns: dict[str, NDArray[np.generic]], fields: Sequence[Field]) -> bytes:
    """Encode equal-length columns as binary COPY rows (no header or trailer).

    A field whose width is -1 is written as NULL (its column is ignored).
    """
    n = len(next(iter(columns.values()))) if columns else 0
    spec: list[tuple[str, Any]] = [("_n", ">i2")]
    for name, kind, width in fields:
        spec.append((f"_len_{name}", ">i4"))
        if width >= 0:
            spec.append((name, kind))
    out = np.zeros(n, dtype=np.dtype(spec))
    out["_n"] = len(fields)
    for name, _, width in fields:
        out[f"_len_{name}"] = width
        if width >= 0:
            out[name] = columns[name]
    return out.tobytes()


NUMERIC_DTYPE = np.dtype([("ndigits", ">i2"), ("weight", ">i2"), ("sign", ">u2"), ("dscale", ">i2"), ("d", ">i2", 5)])


def numeric_18_2(values: NDArray[np.float64]) -> NDArray[np.void]:
    """Binary ``numeric`` values with 2 decimals for amounts in [0, 10^16) yuan (rounded to the fen)."""
    fen = np.rint(np.clip(values, 0.0, 9.99e15) * 100.0).astype(np.int64)
    whole, cents = np.divmod(fen, 100)
    out = np.zeros(values.shape[0], dtype=NUMERIC_DTYPE)
    out["ndigits"], out["weight"], out["dscale"] = 5, 3, 2
    for k, power in enumerate((10**12, 10**8, 10**4, 1)):
        out["d"][:, k] = (whole // power) % 10_000
    out["d"][:, 4] = cents * 100
    return out
