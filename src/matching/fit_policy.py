"""Fit-score policy: gate settings, soft-score weights and text settings, as versioned data."""

from typing import Literal

import msgspec


class TextSettings(msgspec.Struct, frozen=True, kw_only=True):
    """TF-IDF settings for thesis/enterprise text similarity (n-grams of at most 3 characters)."""

    analyzer: Literal["char", "char_wb"] = "char_wb"
    ngram_min: int = 2
    ngram_max: int = 3
    min_df: int = 1
    #: n-grams in more than this share of texts ("技术", "系统") say nothing about fit.
    max_df: float = 0.3
    #: ``max_df`` is ignored for smaller corpora (a test, a tiny province).
    max_df_min_corpus: int = 50
    #: A cosine at or above this gives the full text component.
    full_at: float = 0.35

    def __post_init__(self) -> None:
        if not 1 <= self.ngram_min <= self.ngram_max <= 3 or not 0 < self.full_at <= 1 or not 0 < self.max_df <= 1:
            raise ValueError("text settings need 1 <= ngram_min <= ngram_max <= 3, 0 < full_at <= 1, 0 < max_df <= 1")


class FitWeights(msgspec.Struct, frozen=True, kw_only=True):
    """Relative weights of the soft-score components (normalised to a 0-100 score)."""

    text: float = 0.35
    amount: float = 0.20
    value: float = 0.20
    growth: float = 0.10
    pool: float = 0.10
    stage: float = 0.05

    def __post_init__(self) -> None:
        weights = self.as_tuple()
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError("fit weights must be non-negative and not all zero")

    def as_tuple(self) -> tuple[float, float, float, float, float, float]:
        """Weights in the order of :data:`matching.fit.COMPONENTS`."""
        return (self.text, self.amount, self.value, self.growth, self.pool, self.stage)


class FitPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """One version of the fit rules."""

    version: str = "2024.1"
    weights: FitWeights = msgspec.field(default_factory=FitWeights)
    text: TextSettings = msgspec.field(default_factory=TextSettings)
    #: An enterprise without a grade passes the grade gate only when the institution has no minimum,
    #: unless this is set.
    unknown_grade_passes_minimum: bool = False
    #: An enterprise without a stated financing need passes a range gate only if this is set.
    unknown_need_passes_range: bool = False
    #: Amount component at the edges of the range (1.0 at its geometric centre).
    amount_edge_score: float = 0.5
    #: Amount component when the institution states no range.
    amount_open_score: float = 0.5
    #: Revenue growth (fraction) that earns the full growth component.
    growth_full_at: float = 0.5
    #: Pool-status component per state; absent states score 0.
    pool_status_scores: dict[str, float] = msgspec.field(default_factory=lambda: {"admitted": 1.0, "graduated": 0.7})
    #: Stage component when the institution states no stages or the enterprise's stage is unknown.
    stage_neutral_score: float = 0.5


DEFAULT_FIT_POLICY = FitPolicy()
