"""Forward-citation percentiles against a stored cohort distribution (the whole database).

The cohort of a patent is (filing year x IPC section). The service keeps, per cohort, how many
patents have each citation count (a histogram refreshed by the batch command); both the batch and
a single assessment rank a patent against that same histogram, so a patent valued alone scores
exactly as it does in the batch. The percentile is the mid-rank one of
:func:`valuation.indicators.cohort_percentile`: ``100 x (below + ties / 2) / others``, the patent
itself counted in the histogram and excluded from ``others``.
"""

import numpy as np
from numpy.typing import NDArray

from valuation.arrays import clip
from valuation.batch import F64

I64 = NDArray[np.int64]
_VALUE_BITS = 31


def cohort_key(filing_year: I64, ipc_section: I64) -> I64:
    """The int64 key of a cohort (the same packing as the core's in-batch cohorts); -1 when unknown."""
    known = (filing_year > 0) & (ipc_section > 0)
    key: I64 = np.where(known, filing_year * 16 + ipc_section, -1)
    return key


def sort_histogram(hist_cohort: I64, hist_value: I64, hist_count: I64) -> tuple[I64, I64]:
    """The bins as sorted keys (cohort, then citation count) and the running count of patents before each.

    What :func:`sorted_percentiles` ranks against; computed once for a histogram that ranks many targets.
    """
    keys = ((hist_cohort + 1) << _VALUE_BITS) | clip(hist_value, 0, (1 << _VALUE_BITS) - 1)
    order = np.argsort(keys)
    cum: I64 = np.concatenate(([0], np.cumsum(hist_count[order])))
    sorted_keys: I64 = keys[order]
    return sorted_keys, cum


def sorted_percentiles(keys: I64, cum: I64, cohort: I64, value: I64, min_cohort: int) -> F64:
    """Mid-rank percentile of each target's citation count within its stored cohort.

    A target's percentile depends on the bins of its own cohort only: bins of other cohorts change nothing.

    Args:
        keys: The histogram's bins as :func:`sort_histogram` gives them (the targets themselves are counted in
            the bins).
        cum: The running counts :func:`sort_histogram` gives with them.
        cohort: Cohort key of each target (-1 unknown).
        value: Citation count of each target.
        min_cohort: Cohorts smaller than this give NaN (the core falls back to its log scale).

    Returns:
        Percentile 0-100 per target, NaN where the cohort is unknown, has no bins or is too small.
    """
    out = np.full(cohort.shape[0], np.nan)
    if keys.size == 0 or cohort.size == 0:
        return out
    value = clip(value, 0, (1 << _VALUE_BITS) - 1)
    start = (cohort + 1) << _VALUE_BITS
    target = start | value
    first = np.searchsorted(keys, start, side="left")
    last = np.searchsorted(keys, (cohort + 2) << _VALUE_BITS, side="left")
    lo = np.searchsorted(keys, target, side="left")
    hi = np.searchsorted(keys, target, side="right")
    before = cum[first]
    total = cum[last] - before
    below = cum[lo] - before
    ties = np.maximum(cum[hi] - cum[lo] - 1, 0)  # the target itself is one of its bin
    others = np.maximum(total - 1, 0)
    ok = (cohort >= 0) & (total > 0) & (total >= min_cohort)  # a cohort without bins has no percentile
    # (no errstate needed: the divisor is at least 1)
    pct = np.where(others > 0, 100.0 * (below + 0.5 * ties) / np.maximum(others, 1), 50.0)
    out[ok] = pct[ok]
    return out
