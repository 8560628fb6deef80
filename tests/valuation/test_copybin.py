"""Decoding fixed-width binary COPY rows: every row's field count and lengths are checked."""

import numpy as np
import pytest

from valuation.copybin import HEADER, TRAILER, decode_rows, encode_rows, row_dtype

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
