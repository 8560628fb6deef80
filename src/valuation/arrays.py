"""Bit-identical stand-ins for NumPy helpers whose Python-level overhead dominates on small arrays.

An assessment values a few dozen patents, where ``np.nan_to_num`` (three masks, three ``copyto`` and a
``finfo`` lookup: ~15 µs) or ``np.clip`` (two dispatch layers before its ufunc: ~6 µs) cost more than the
arithmetic. These give exactly the same values on every input (tested against NumPy's own), and are no
slower on the batch command's large arrays.
"""

import importlib
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from valuation.batch import F64

N = TypeVar("N", bound=np.generic)

try:  # the ufunc np.clip ends in for two given bounds (numpy/_core/_methods.py: _clip)
    _clip_ufunc: Any = getattr(importlib.import_module("numpy._core.umath"), "clip", np.clip)
except ImportError:  # pragma: no cover - an older or reorganised NumPy: the public function, same values
    _clip_ufunc = np.clip


def nan_to_num(x: F64, nan: float = 0.0) -> F64:
    """``np.nan_to_num(x, nan=nan)`` of a float array: NaN -> ``nan``, ±inf -> the largest finite values."""
    if x.dtype != np.float64:
        replaced: F64 = np.nan_to_num(x, nan=nan)
        return replaced
    # Clipping to the largest finite values maps ±inf to them and leaves every other value as it is (NaN too).
    filled: F64 = np.where(np.isnan(x), nan, _clip_ufunc(x, -_MAX, _MAX))
    return filled


_MAX = float(np.finfo(np.float64).max)


def clip(x: NDArray[N], low: float, high: float) -> NDArray[N]:
    """``np.clip(x, low, high)`` with both bounds given (the same ufunc, without the dispatch around it).

    For an integer array the bounds must lie inside its type's range (``np.clip`` drops a bound at or past
    the type's limit; here it would be cast).
    """
    clipped: NDArray[N] = _clip_ufunc(x, low, high)
    return clipped
