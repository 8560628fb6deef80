"""Throughput of the vectorised valuation core: value degree + income value per patent.

Target (QUALITY.md): ≥ 500,000 patents/s. The baseline, measured in the same run over the same
arrays, is a bare NumPy pass: every column read once, NaN-filled, weighted and summed, plus one
closed-form annuity — the least any vectorised valuation has to do.

    .venv/bin/python bench/bench_valuation_core.py [n_patents]
"""

import datetime as dt
import sys
import time

import numpy as np

from valuation.batch import CATEGORICAL_COLUMNS, NUMERIC_COLUMNS, PatentBatch, empty_batch
from valuation.codes import CHAIN_CODES, LABELS, N_INDICATORS
from valuation.coefficients import default_coefficients
from valuation.degree import value_degrees
from valuation.money import income_values

TARGET = 500_000


def synthetic(n: int, seed: int = 1) -> PatentBatch:
    rng = np.random.default_rng(seed)
    b = empty_batch(n)
    b.patent_type[:] = rng.integers(1, 4, n)
    b.ipc_section[:] = rng.integers(1, 9, n)
    b.chain[:] = rng.integers(0, len(CHAIN_CODES), n)
    b.high_tech[:] = rng.random(n) < 0.4
    b.product[:] = np.where(rng.random(n) < 0.2, rng.integers(0, n // 4, n), -1)
    for kind in CATEGORICAL_COLUMNS:
        b.categorical[kind][:] = rng.integers(0, len(LABELS[kind]) + 1, n)
    for name in NUMERIC_COLUMNS:
        col = rng.uniform(0, 30, n)
        col[rng.random(n) < 0.15] = np.nan
        b.numeric[name][:] = col
    b.numeric["filing_year"][:] = rng.integers(2005, 2024, n)
    b.numeric["remaining_term_years"][:] = rng.uniform(0, 20, n)
    b.numeric["sales"][:] = rng.lognormal(16, 1.5, n)
    b.numeric["chain_median_sales"][:] = 1e7
    b.numeric["sales_growth"][:] = rng.uniform(-0.1, 0.2, n)
    b.numeric["market_share"][:] = rng.uniform(0, 0.5, n)
    b.declared[:] = np.where(rng.random((n, N_INDICATORS)) < 0.2, rng.integers(1, 6, (n, N_INDICATORS)), 0)
    return b


def baseline(b: PatentBatch) -> np.ndarray:
    acc = np.zeros(b.size)
    for col in b.numeric.values():
        acc += 0.01 * np.nan_to_num(col)
    for codes in b.categorical.values():
        acc += codes
    acc += b.declared @ np.full(N_INDICATORS, 0.1)
    r, n = 0.08, np.nan_to_num(b.numeric["remaining_term_years"])
    return acc * (1 - (1 + r) ** -n) / r


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    b = synthetic(n)
    coeffs = default_coefficients()

    def core() -> None:
        d = value_degrees(b, coeffs)
        income_values(b, d, coeffs)

    core()  # warm-up (imports, page faults)
    t_core = best_of(core, 3)
    t_base = best_of(lambda: baseline(b), 3)
    rate = n / t_core
    print(f"valuation core, {n:,} patents ({dt.date.today()}):")
    print(f"  value degree + income value: {t_core:.3f} s = {rate:,.0f} patents/s (target ≥ {TARGET:,})")
    print(f"  bare NumPy pass (baseline):  {t_base:.3f} s = {n / t_base:,.0f} patents/s")
    print(f"  core time / baseline time: {t_core / t_base:.2f}x; {'PASS' if rate >= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
