"""Pure helpers of the feature assembly, against straightforward reference computations."""

import numpy as np
import pytest

from valuation.batch import CATEGORICAL_COLUMNS, NUMERIC_COLUMNS, PatentBatch, empty_batch
from valuation.cohorts import cohort_key, sort_histogram, sorted_percentiles
from valuation.errors import ValuationInputError
from valuation.features import Histogram, owner_groups, related_patents


@pytest.mark.parametrize("seed", range(40))
def test_related_patents_counts_the_owners_other_patents_in_the_subclass(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    owners = [bytes(16)] + [bytes([k]) * 16 for k in range(1, 4)]
    owner = np.array([owners[k] for k in np.sort(rng.integers(0, 4, n))], dtype="V16")
    ipc1 = np.array([[b"", b"    ", b"H01L", b"G06F", b"A61K"][k] for k in rng.integers(0, 5, n)], dtype="S4")
    want = np.full(n, np.nan)
    for i in range(n):
        if owner[i] != np.void(bytes(16)) and ipc1[i] not in (b"", b"    "):
            want[i] = sum(1 for j in range(n) if j != i and owner[j] == owner[i] and ipc1[j] == ipc1[i])
    got = related_patents(owner, ipc1)
    assert got.tobytes() == want.tobytes()
    assert related_patents(owner, ipc1, owner_groups(owner)).tobytes() == want.tobytes()


def test_empty_batch_is_a_valid_batch_and_checks_its_type():
    b = empty_batch(7, 3)
    assert b.size == 7 and (b.patent_type == 3).all() and (b.chain == -1).all() and (b.product == -1).all()
    assert set(b.categorical) == set(CATEGORICAL_COLUMNS) and set(b.numeric) == set(NUMERIC_COLUMNS)
    assert all(np.isnan(c).all() for c in b.numeric.values()) and b.declared.flags.f_contiguous
    PatentBatch(**{f: getattr(b, f) for f in b.__dataclass_fields__})  # passes the checks
    with pytest.raises(ValuationInputError):
        empty_batch(3, 4)
    assert empty_batch(0, 4).size == 0


def histogram_percentiles(
    hist_cohort: np.ndarray,
    hist_value: np.ndarray,
    hist_count: np.ndarray,
    cohort: np.ndarray,
    value: np.ndarray,
    min_cohort: int,
) -> np.ndarray:
    """The percentiles of the targets against these bins, sorted for this call only."""
    return sorted_percentiles(*sort_histogram(hist_cohort, hist_value, hist_count), cohort, value, min_cohort)


def test_histogram_percentiles_mid_rank_against_the_stored_cohort():
    # cohort 5: counts 0 x2, 3 x1, 7 x3 (6 patents); a target with 3 citations: 2 below, no tie, 5 others
    cohort = np.array([5, 5, 5], np.int64)
    value = np.array([0, 3, 7], np.int64)
    count = np.array([2, 1, 3], np.int64)
    got = histogram_percentiles(cohort, value, count, np.array([5, 5, 5, -1]), np.array([3, 7, 0, 3]), 5)
    assert got[:3].tolist() == [100 * 2 / 5, 100 * (3 + 0.5 * 2) / 5, 100 * (0.5 * 1) / 5] and np.isnan(got[3])
    assert np.isnan(histogram_percentiles(cohort, value, count, np.array([5]), np.array([3]), 7)).all()
    none = np.zeros(0, np.int64)  # no stored bins at all
    assert np.isnan(histogram_percentiles(none, none, none, np.array([5]), np.array([3]), 0)).all()


@pytest.mark.parametrize("min_cohort", [0, 1, 4])
@pytest.mark.parametrize("seed", range(30))
def test_percentiles_against_every_cohort_equal_those_against_the_targets_cohorts(seed, min_cohort):
    """An assessment ranks against the histogram of every stored cohort, sorted once per process
    (Histogram.percentiles); before, against the bins of its own patents' cohorts only. Same numbers."""
    rng = np.random.default_rng(seed)
    bins = int(rng.integers(0, 120))
    year, section = rng.integers(2000, 2006, bins), rng.integers(1, 4, bins)
    value, count = rng.integers(0, 12, bins), rng.integers(1, 9, bins)
    keep = np.unique(cohort_key(year, section) * 64 + value, return_index=True)[1]  # one bin per (cohort, value)
    year, section, value, count = year[keep], section[keep], value[keep], count[keep]
    n = int(rng.integers(0, 30))
    target = cohort_key(rng.integers(1999, 2007, n), rng.integers(0, 4, n))  # some unknown or without bins
    cited = rng.integers(-1, 14, n)
    full = Histogram(year, section, value, count)
    mine = np.isin(full.cohort, target)
    want = histogram_percentiles(full.cohort[mine], value[mine], count[mine], target, cited, min_cohort)
    assert full.percentiles(target, cited, min_cohort).tobytes() == want.tobytes()
    assert full.percentiles(target, cited, min_cohort).tobytes() == want.tobytes()  # again, the bins kept sorted
    assert histogram_percentiles(full.cohort, value, count, target, cited, min_cohort).tobytes() == want.tobytes()


def test_take_rows_equals_structured_indexing():
    from valuation.copybin import row_dtype
    from valuation.features import JOINED_FIELDS, take_rows

    rng = np.random.default_rng(2)
    rows = np.frombuffer(rng.integers(0, 256, 37 * row_dtype(JOINED_FIELDS).itemsize, np.uint8).tobytes(),
                         row_dtype(JOINED_FIELDS))  # fmt: skip
    for index in (rng.random(37) < 0.5, rng.permutation(37), np.zeros(0, np.intp), np.ones(37, bool)):
        want = rows[index]
        got = take_rows(rows, index)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    assert take_rows(rows[::3], np.arange(5)).tobytes() == rows[::3][np.arange(5)].tobytes()


def test_ipc_counts_count_distinct_subclasses_and_sections():
    from valuation.features import ipc_counts

    rng = np.random.default_rng(5)
    pool = [b"", b"    ", b"H01L", b"H01M", b"G06F", b"A61K", b"A01B", b"H04W"]
    n = 300
    rows = np.zeros(n, [(f"ipc{k}", "S4") for k in range(1, 5)])
    for k in range(1, 5):
        rows[f"ipc{k}"] = [pool[j] for j in rng.integers(0, len(pool), n)]
    subclasses, sections = ipc_counts(rows)
    for i in range(n):
        codes = {rows[f"ipc{k}"][i] for k in range(1, 5)} - {b"", b"    "}
        want_sub = float(len(codes)) if codes else np.nan
        want_sec = float(len({c[:1] for c in codes})) if codes else np.nan
        assert np.array_equal([subclasses[i], sections[i]], [want_sub, want_sec], equal_nan=True)


def _random_joined(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows of joined_sql: a few owners (one the nil owner), some with events and some with enterprise facts."""
    from valuation.copybin import row_dtype
    from valuation.features import JOINED_FIELDS

    rows = np.zeros(n, row_dtype(JOINED_FIELDS))
    owners = [bytes(16)] + [bytes([k]) * 16 for k in range(1, 4)]
    owner = sorted(int(k) for k in rng.integers(0, 4, n))
    rows["number"] = [f"2018{k:08d}.1".encode() for k in rng.permutation(n)]
    rows["owner"] = np.array([owners[k] for k in owner], dtype="V16")
    rows["patent_type"] = rng.integers(0, 3, n)
    rows["patent_chain"] = rng.integers(-1, 4, n)
    rows["legal_status"] = rng.integers(0, 4, n)
    rows["filing_date"] = rng.integers(9000, 12000, n)
    rows["expiry_date"] = rows["filing_date"] + 7300
    rows["forward_citations"] = rng.integers(0, 30, n)
    rows["ipc1"] = [[b"H01L", b"G06F", b"", b"A61K"][k] for k in rng.integers(0, 4, n)]
    for name in ("ev_invalidation", "ev_licensing", "ev_financing", "ev_litigation"):
        rows[name] = rng.integers(0, 4, n)
    for name in ("ev_already_pledged", "ev_pending_invalidation", "ev_ownership_dispute"):
        rows[name] = rng.integers(0, 2, n)
    rows["has_events"] = rng.integers(0, 2, n)
    for name in ("ev_invalidation", "ev_licensing", "ev_financing", "ev_litigation", "ev_already_pledged",
                 "ev_pending_invalidation", "ev_ownership_dispute"):  # fmt: skip
        rows[name][rows["has_events"] == 0] = 0  # the statement's coalesce
    # Owner facts: the same for every row of an owner; the nil owner and owner 3 have none.
    facts = {1: (2, 1, 5e6), 2: (-1, 0, np.nan)}
    for k, (chain, high_tech, sales) in facts.items():
        mine = np.array(owner) == k
        rows["en_chain"][mine], rows["en_high_tech"][mine], rows["en_sales"][mine] = chain, high_tech, sales
        rows["has_enterprise"][mine] = 1
    rows["en_chain"][rows["has_enterprise"] == 0] = -1
    rows["en_sales"][rows["has_enterprise"] == 0] = np.nan
    return rows


@pytest.mark.parametrize("seed", range(25))
def test_joined_rows_give_the_batch_of_the_side_tables(seed):
    """joined_to_batch (each row's events and owner facts from its own columns) equals cutting the side tables
    out (split_joined) and looking each row's up again (rows_to_batch), as the batch run does."""
    import dataclasses
    import datetime as dt

    from valuation.features import SideTables, joined_to_batch, median_array, rows_to_batch, split_joined

    rng = np.random.default_rng(seed)
    rows = _random_joined(rng, int(rng.integers(0, 40)))
    medians = {"ic": 3e6, "ai": 8e6}
    histogram = Histogram(rng.integers(1995, 2003, 60), rng.integers(1, 9, 60), rng.integers(0, 30, 60),
                          rng.integers(1, 5, 60))  # fmt: skip
    as_of = dt.date(2024, 6, 1)
    _, events, enterprises = split_joined(rows)
    want, want_gates = rows_to_batch(rows, SideTables.build(events, enterprises, medians, histogram), as_of, 3)
    got, gates = joined_to_batch(rows, median_array(medians), histogram, as_of, 3)
    assert gates.keys() == want_gates.keys()
    assert all(gates[k].tobytes() == want_gates[k].tobytes() and gates[k].dtype == want_gates[k].dtype for k in gates)
    for field in dataclasses.fields(got):
        a, b = getattr(got, field.name), getattr(want, field.name)
        for key in a if isinstance(a, dict) else [None]:
            x, y = (a[key], b[key]) if key is not None else (a, b)
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), (field.name, key)
