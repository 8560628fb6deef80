"""Patent facts: one readable Struct per patent, and the columnar batch the core computes on.

:class:`PatentFacts` is what an API or a test writes (labels, optional fields). :class:`PatentBatch`
holds one NumPy array per fact, one row per patent: numbers are ``float64`` with NaN for missing,
categorical facts are ``int8`` codes with 0 for unknown (see :mod:`valuation.codes`), and
``declared`` is an ``(n, 27)`` ``int8`` array of 1-5 declarations with 0 for none. The batch
command of the service fills a batch straight from COPY rows; :func:`batch_from_facts` builds one
from Structs, so the single-patent path runs exactly the same vectorised code.
"""

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Annotated

import msgspec
import numpy as np
from numpy.typing import NDArray

from valuation.codes import (
    CHAIN_CODES,
    DESIGN_TERM_BEFORE_2021_06_01,
    INDICATOR_INDEX,
    IPC_SECTIONS,
    LABELS,
    LEGAL_TERM_YEARS,
    N_INDICATORS,
    PATENT_TYPES,
    ChainCode,
    PatentType,
    code_of,
)
from valuation.errors import ValuationInputError
from valuation.types import Count, Declared, Rate, Years, Yuan

F64 = NDArray[np.float64]
I8 = NDArray[np.int8]

# Categorical columns of the batch and the label tuple each one is coded with.
CATEGORICAL_COLUMNS: tuple[str, ...] = tuple(LABELS)
NUMERIC_COLUMNS: tuple[str, ...] = (
    "filing_year",
    "age_years",
    "remaining_term_years",
    "economic_life_years",
    "family_major",
    "family_other",
    "first_claim_chars",
    "claim_count",
    "independent_claims",
    "backward_citations",
    "forward_citations",
    "ipc_subclasses",
    "ipc_sections",
    "related_patents",
    "sales",
    "chain_median_sales",
    "sales_growth",
    "market_share",
    "rd_cost",
    "cost_index",
    "fees",
    "citation_percentile",
)


@dataclasses.dataclass(frozen=True, slots=True)
class PatentBatch:
    """Columnar facts of ``n`` patents (see the module docstring for the coding)."""

    patent_type: I8  # 1 invention, 2 utility model, 3 design
    ipc_section: I8  # 1..8 for A..H, 0 unknown (forward-citation cohort)
    chain: NDArray[np.int16]  # index into CHAIN_CODES, -1 unknown
    high_tech: NDArray[np.bool_]  # 高新技术企业: 15% tax instead of 25%
    product: NDArray[np.int64]  # patents sharing a product's royalty share an id; -1 = own product
    categorical: dict[str, I8]  # kind -> codes, keys CATEGORICAL_COLUMNS
    numeric: dict[str, F64]  # name -> values (NaN missing), keys NUMERIC_COLUMNS
    declared: I8  # (n, 27), 0 = none; Fortran order is fastest (one indicator's column is contiguous)

    def __post_init__(self) -> None:
        n = self.size
        if set(self.categorical) != set(CATEGORICAL_COLUMNS):
            raise ValuationInputError("categorical", f"columns must be {sorted(CATEGORICAL_COLUMNS)}")
        if set(self.numeric) != set(NUMERIC_COLUMNS):
            raise ValuationInputError("numeric", f"columns must be {sorted(NUMERIC_COLUMNS)}")
        columns: list[np.ndarray] = [self.ipc_section, self.chain, self.high_tech, self.product]
        columns += list(self.categorical.values()) + list(self.numeric.values())
        if any(c.shape != (n,) for c in columns) or self.declared.shape != (n, N_INDICATORS):
            raise ValuationInputError("batch", "every column needs one row per patent")
        if n and not ((self.patent_type >= 1) & (self.patent_type <= 3)).all():
            raise ValuationInputError("patent_type", "codes must be 1, 2 or 3")
        if n and not _categorical_in_range(self.categorical):
            for kind, codes in self.categorical.items():  # the first offending kind, in the dict's order
                if codes.min() < 0 or codes.max() > len(LABELS[kind]):
                    raise ValuationInputError(kind, f"codes must be 0..{len(LABELS[kind])}")
        if n and (self.declared.min() < 0 or self.declared.max() > 5):
            raise ValuationInputError("declared", "declarations must be 0 (none) or 1..5")
        if n and (self.chain.min() < -1 or self.chain.max() >= len(CHAIN_CODES)):
            raise ValuationInputError("chain", f"codes must be -1..{len(CHAIN_CODES) - 1}")

    @property
    def size(self) -> int:
        """Number of patents."""
        return int(self.patent_type.shape[0])

    def rows(self, start: int, stop: int) -> "PatentBatch":
        """A view of rows ``start:stop`` (no copy)."""
        cut = slice(start, stop)
        return PatentBatch(
            patent_type=self.patent_type[cut],
            ipc_section=self.ipc_section[cut],
            chain=self.chain[cut],
            high_tech=self.high_tech[cut],
            product=self.product[cut],
            categorical={k: v[cut] for k, v in self.categorical.items()},
            numeric={k: v[cut] for k, v in self.numeric.items()},
            declared=self.declared[cut],
        )

    def col(self, name: str) -> F64:
        """A numeric column by name."""
        return self.numeric[name]

    def cat(self, kind: str) -> I8:
        """A categorical column by kind."""
        return self.categorical[kind]


_CATEGORICAL_MAX = np.array([len(LABELS[kind]) for kind in CATEGORICAL_COLUMNS], np.int64)
assert _CATEGORICAL_MAX.max() < 128  # see _categorical_in_range


def _categorical_in_range(categorical: dict[str, I8]) -> bool:
    """Whether every categorical code is within 0..its number of labels (all columns checked at once)."""
    columns = [categorical[kind] for kind in CATEGORICAL_COLUMNS]
    if all(c.dtype == np.int8 for c in columns):
        # As unsigned bytes the negative codes become 128..255, above every label count: one compare.
        codes = np.concatenate(columns).view(np.uint8).reshape(len(columns), -1)
        return not (codes > _CATEGORICAL_MAX[:, None]).any()
    stacked = np.stack(columns)
    return bool((stacked.min(axis=1) >= 0).all() and (stacked.max(axis=1) <= _CATEGORICAL_MAX).all())


def empty_batch(n: int, patent_type: int = 1) -> PatentBatch:
    """A batch of ``n`` patents of one type with every fact unknown (for tests and benches).

    Args:
        n: Number of rows.
        patent_type: Code of the type (1 invention, 2 utility model, 3 design).

    Returns:
        A batch whose columns can be filled in place.
    """
    if n and patent_type not in (1, 2, 3):
        raise ValuationInputError("patent_type", "codes must be 1, 2 or 3")
    # One block per column type, each column a contiguous row of it (a few allocations instead of ~40).
    codes = np.zeros((len(CATEGORICAL_COLUMNS) + 1, n), np.int8)
    numbers = np.full((len(NUMERIC_COLUMNS), n), np.nan)
    columns = {
        "patent_type": np.full(n, patent_type, np.int8),
        "ipc_section": codes[-1],
        "chain": np.full(n, -1, np.int16),
        "high_tech": np.zeros(n, np.bool_),
        "product": np.full(n, -1, np.int64),
        "categorical": dict(zip(CATEGORICAL_COLUMNS, codes, strict=False)),
        "numeric": dict(zip(NUMERIC_COLUMNS, numbers, strict=True)),
        "declared": np.zeros((n, N_INDICATORS), np.int8, order="F"),  # column-major: one indicator is contiguous
    }
    # Every column has n rows and codes 0 (unknown) or -1 (chain, product): what __post_init__ checks holds by
    # construction, so the batch is built without running it (its checks cost more than the allocations).
    batch = object.__new__(PatentBatch)
    for name, value in columns.items():
        object.__setattr__(batch, name, value)
    return batch


class PatentFacts(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Everything known about one patent; ``None`` means unknown.

    Categorical fields take the labels of :data:`valuation.codes.LABELS`; ``declared`` maps an
    indicator key to a 1-5 declaration used when the data are missing.
    """

    patent_type: PatentType
    filing_date: dt.date
    legal_status: str | None = None
    remaining_term_years: Years | None = None  # defaults to the statutory term left at `as_of`
    economic_life_years: Years | None = None
    family_major_offices: Count | None = None
    family_other_offices: Count | None = None
    invalidation: str | None = None
    first_claim_chars: Count | None = None
    claim_count: Count | None = None
    independent_claims: Count | None = None
    claim_types: str | None = None
    dependency: str | None = None
    originality: str | None = None
    backward_citations: Count | None = None
    forward_citations: Count | None = None
    ipc_section: str | None = None
    ipc_subclasses: Count | None = None
    ipc_sections: Count | None = None
    substitutes: str | None = None
    complementary: str | None = None
    maturity: str | None = None
    lifecycle: str | None = None
    related_patents: Count | None = None
    competitors: str | None = None
    sales: Yuan | None = None
    chain_median_sales: Yuan | None = None
    sales_growth: Annotated[float, msgspec.Meta(ge=-0.9, le=1.0)] | None = None
    market_share: Rate | None = None
    policy_fit: str | None = None
    licensing: str | None = None
    financing: str | None = None
    litigation: str | None = None
    chain: ChainCode | None = None
    high_tech: bool = False
    product: int = -1
    rd_cost: Yuan | None = None
    cost_index: Annotated[float, msgspec.Meta(gt=0.0, le=100.0)] | None = None  # today's cost / historical
    fees: Yuan | None = None
    # Forward-citation percentile within the cohort over the whole database (the service computes it
    # from a stored cohort distribution); None = rank within the batch, as before.
    citation_percentile: Annotated[float, msgspec.Meta(ge=0.0, le=100.0)] | None = None
    declared: dict[str, Declared] = msgspec.field(default_factory=dict)


def statutory_remaining_years(patent_type: PatentType, filing_date: dt.date, as_of: dt.date) -> float:
    """Years of statutory term left at ``as_of`` (never negative)."""
    term = LEGAL_TERM_YEARS[patent_type]
    if patent_type == "design" and filing_date < dt.date(2021, 6, 1):
        term = DESIGN_TERM_BEFORE_2021_06_01
    try:
        expiry = filing_date.replace(year=filing_date.year + term)
    except ValueError:  # 29 February in a year that has none
        expiry = filing_date.replace(year=filing_date.year + term, day=28)
    return max(0.0, (expiry - as_of).days / 365.25)


def batch_from_facts(facts: Sequence[PatentFacts], as_of: dt.date) -> PatentBatch:
    """Build the columnar batch from per-patent Structs.

    Args:
        facts: The patents, in output order.
        as_of: Valuation date (ages and statutory terms are computed at this date).

    Returns:
        The batch.

    Raises:
        ValuationInputError: On an unknown label, declaration key or a filing date after ``as_of``.
    """
    batch = empty_batch(len(facts))
    for i, f in enumerate(facts):
        _fill_row(batch, i, f, as_of)
    return batch


def _fill_row(batch: PatentBatch, i: int, f: PatentFacts, as_of: dt.date) -> None:
    if f.filing_date > as_of:
        raise ValuationInputError(f"[{i}].filing_date", "is after the valuation date")
    batch.patent_type[i] = PATENT_TYPES.index(f.patent_type) + 1
    batch.chain[i] = CHAIN_CODES.index(f.chain) if f.chain is not None else -1
    batch.high_tech[i] = f.high_tech
    batch.product[i] = f.product
    if f.ipc_section is not None:
        if len(f.ipc_section) != 1 or f.ipc_section not in IPC_SECTIONS:
            raise ValuationInputError(f"[{i}].ipc_section", "must be one letter A-H")
        batch.ipc_section[i] = IPC_SECTIONS.index(f.ipc_section) + 1
    for kind in CATEGORICAL_COLUMNS:
        try:
            batch.categorical[kind][i] = code_of(kind, getattr(f, kind))
        except ValueError:
            raise ValuationInputError(f"[{i}].{kind}", f"must be one of {list(LABELS[kind])}") from None
    remaining = f.remaining_term_years
    if remaining is None:
        remaining = statutory_remaining_years(f.patent_type, f.filing_date, as_of)
    values: dict[str, float | int | None] = {
        "filing_year": f.filing_date.year,
        "age_years": (as_of - f.filing_date).days / 365.25,
        "remaining_term_years": remaining,
        "family_major": f.family_major_offices,
        "family_other": f.family_other_offices,
    }
    for name in NUMERIC_COLUMNS:
        value = values[name] if name in values else getattr(f, name)
        batch.numeric[name][i] = np.nan if value is None else value
    for key, level in f.declared.items():
        if key not in INDICATOR_INDEX:
            raise ValuationInputError(f"[{i}].declared.{key}", "is not an indicator")
        batch.declared[i, INDICATOR_INDEX[key]] = level
