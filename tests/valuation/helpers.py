import datetime as dt
from typing import Any

from valuation.batch import PatentFacts, batch_from_facts
from valuation.codes import INDICATOR_INDEX
from valuation.coefficients import default_coefficients
from valuation.degree import SOURCES, value_degrees

AS_OF = dt.date(2024, 6, 1)
COEFFS = default_coefficients()


def facts(**kw: Any) -> PatentFacts:
    base: dict[str, Any] = {"patent_type": "invention", "filing_date": dt.date(2018, 3, 1)}
    base.update(kw)
    return PatentFacts(**base)


def score(key: str, **kw: Any) -> tuple[float, str]:
    """Score and source of one indicator for a patent built from ``kw``."""
    d = value_degrees(batch_from_facts([facts(**kw)], AS_OF), COEFFS)
    j = INDICATOR_INDEX[key]
    return float(d.scores[0, j]), SOURCES[d.source[0, j]]


def random_batch(seed: int, n: int = 60):
    """A batch with every column filled at random, about a fifth of each left unknown."""
    import numpy as np

    from valuation.batch import CATEGORICAL_COLUMNS, empty_batch
    from valuation.codes import CHAIN_CODES, LABELS, N_INDICATORS

    rng = np.random.default_rng(seed)
    b = empty_batch(n)
    b.patent_type[:] = rng.integers(1, 4, n)
    b.ipc_section[:] = rng.integers(0, 3, n)
    b.chain[:] = rng.integers(-1, len(CHAIN_CODES), n)
    b.high_tech[:] = rng.random(n) < 0.3
    b.product[:] = np.where(rng.random(n) < 0.4, rng.integers(0, 5, n), -1)
    for kind in CATEGORICAL_COLUMNS:
        b.categorical[kind][:] = rng.integers(0, len(LABELS[kind]) + 1, n)
    ranges = {
        "filing_year": (2015, 2018),
        "age_years": (0, 15),
        "remaining_term_years": (0, 20),
        "economic_life_years": (0, 20),
        "family_major": (0, 5),
        "family_other": (0, 8),
        "first_claim_chars": (20, 800),
        "claim_count": (0, 30),
        "independent_claims": (0, 4),
        "backward_citations": (0, 40),
        "forward_citations": (0, 60),
        "ipc_subclasses": (1, 6),
        "ipc_sections": (1, 4),
        "related_patents": (0, 12),
        "sales": (0, 1e9),
        "chain_median_sales": (1e5, 1e8),
        "sales_growth": (-0.3, 0.3),
        "market_share": (0, 0.6),
        "rd_cost": (0, 5e6),
        "cost_index": (0.8, 1.5),
        "fees": (0, 5e4),
    }
    for name, (lo, hi) in ranges.items():
        col = rng.uniform(lo, hi, n)
        if name in {"filing_year", "claim_count", "independent_claims", "forward_citations", "family_major"}:
            col = np.floor(col)
        col[rng.random(n) < 0.2] = np.nan
        b.numeric[name][:] = col
    b.numeric["filing_year"][:] = np.nan_to_num(b.numeric["filing_year"], nan=2016)
    b.numeric["remaining_term_years"][:] = np.nan_to_num(b.numeric["remaining_term_years"], nan=5.0)
    b.declared[:] = np.where(rng.random((n, N_INDICATORS)) < 0.3, rng.integers(1, 6, (n, N_INDICATORS)), 0)
    return b


def with_column(batch, name, values):
    """A copy of ``batch`` with numeric column ``name`` replaced."""
    import dataclasses

    numeric = dict(batch.numeric)
    numeric[name] = values
    return dataclasses.replace(batch, numeric=numeric)
