"""Decoding fixed-width binary COPY rows: every row's field count and lengths are checked."""

import numpy as np
import pytest

from valuation.copybin import HEADER, TRAILER, decode_records, decode_rows, encode_rows, row_dtype

FIELDS = (("a", ">i4", 4), ("b", ">f8", 8), ("c", "S3", 3))


def _body(n: int) -> bytearray:
    rng = np.random.default_rng(n)
    columns = {"a": rng.integers(-5, 5, n), "b": rng.normal(size=n), "c": np.array([b"xyz"] * n)}
    return bytearray(encode_rows(columns, FIELDS))


@pytest.mark.parametrize("n", [1, 24, 5000])  # one gather of the header bytes up to 4,096 rows, field by field above
def test_decodes_and_checks_every_row(n):
    body = _body(n)
    rows = decode_rows(HEADER + body + TRAILER, FIELDS)
    assert rows.shape == (n,) and rows.dtype == row_dtype(FIELDS)
    assert decode_rows(bytes(body), list(FIELDS)).tobytes() == rows.tobytes()
    size = row_dtype(FIELDS).itemsize
    offset = {name: row_dtype(FIELDS).fields[name][1] for name in row_dtype(FIELDS).names}
    for name, value, message in (
        ("_n", np.array(2, ">i2"), "field count"),
        ("_len_b", np.array(-1, ">i4"), "field b is NULL"),
        ("_len_c", np.array(4, ">i4"), "field c is NULL or not 3 bytes wide"),
    ):
        bad = bytearray(body)
        at = (n - 1) * size + offset[name]  # the last row only
        bad[at : at + value.itemsize] = value.tobytes()
        with pytest.raises(ValueError, match=message):
            decode_rows(bytes(bad), FIELDS)


def _record(values: list[tuple[int, bytes | None]]) -> bytes:
    """One row as record_send writes it: an int32 count, then per field its type oid, length and bytes."""
    out = len(values).to_bytes(4, "big")
    for oid, data in values:
        out += oid.to_bytes(4, "big")
        out += (len(data) if data is not None else -1).to_bytes(4, "big", signed=True) + (data or b"")
    return out


def test_record_send_rows_decode_and_a_null_is_named() -> None:
    fields = [("a", ">i4", 4), ("b", ">f8", 8)]
    rows = [[(23, (i).to_bytes(4, "big")), (701, np.array(i / 2, ">f8").tobytes())] for i in range(3)]
    got = decode_records(b"".join(_record(r) for r in rows), fields)
    assert got["a"].tolist() == [0, 1, 2] and got["b"].tolist() == [0.0, 0.5, 1.0]
    assert decode_records(None, fields).size == 0  # string_agg over no rows
    with pytest.raises(ValueError, match="field b is NULL"):
        decode_records(_record([(23, b"\0\0\0\1"), (701, None)]) + b"\0" * 8, fields)
    with pytest.raises(ValueError, match="whole number"):
        decode_records(_record(rows[0])[:-1], fields)
