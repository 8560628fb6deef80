"""The small-array stand-ins give NumPy's own results, bit for bit."""

import numpy as np
import pytest

from valuation.arrays import clip, nan_to_num


def _cases():
    rng = np.random.default_rng(4)
    for t in range(300):
        n = int(rng.integers(0, 60)) if t % 10 else 5000
        x = rng.normal(0, 50, n)
        special = rng.random(n)
        x[special < 0.2] = np.nan
        if t % 3 == 0:
            x[(special > 0.2) & (special < 0.25)] = np.inf
            x[(special > 0.25) & (special < 0.3)] = -np.inf
        x[(special > 0.3) & (special < 0.35)] = -0.0
        x[(special > 0.35) & (special < 0.4)] = 0.0
        yield x if t % 7 else x[::2]  # some strided views


@pytest.mark.parametrize("nan", [0.0, 1.0])
def test_nan_to_num_equals_numpy(nan):
    for x in _cases():
        got, want = nan_to_num(x, nan=nan), np.nan_to_num(x, nan=nan)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()
    ints = np.arange(5)
    assert nan_to_num(ints).tobytes() == np.nan_to_num(ints).tobytes()


def test_nan_to_num_leaves_its_input_alone():
    x = np.array([np.nan, 1.0, np.inf])
    nan_to_num(x)
    nan_to_num(x[:2])
    assert np.isnan(x[0]) and np.isinf(x[2])


@pytest.mark.parametrize(("low", "high"), [(0.0, 100.0), (-1.0, 1.0), (0.0, 0.0)])
def test_clip_equals_numpy(low, high):
    for x in _cases():
        got, want = clip(x, low, high), np.clip(x, low, high)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
