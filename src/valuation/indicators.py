"""The 27 indicator rules, vectorised: each maps batch columns to scores 0-100, NaN = no data.

A rule never looks at declarations or defaults; :mod:`valuation.degree` layers those on top. Every
rule is a small function of NumPy arrays and the rule parameters of the coefficient set, so it can
be tested on its own and runs over a million patents without a Python loop per patent.
"""

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from valuation.arrays import clip, nan_to_num
from valuation.batch import F64, I8, PatentBatch
from valuation.codes import CHAIN_CODES, LABELS, PATENT_TYPES
from valuation.coefficients import CoefficientSet, LinearRule, StepRule, derived

Rule = Callable[[PatentBatch, CoefficientSet], F64]


def lookup_table(scores: dict[str, float], kind: str) -> F64:
    """The score of each code of ``kind``: NaN for code 0 (unknown), then the labels' scores."""
    return np.array([np.nan] + [scores[label] for label in LABELS[kind]])


def lookup(codes: I8, scores: dict[str, float], kind: str) -> F64:
    """Score categorical codes through the label -> score table of the coefficient set (0 -> NaN)."""
    table: F64 = lookup_table(scores, kind)[codes]
    return table


def linear(x: F64, rule: LinearRule) -> F64:
    """Interpolate between the two anchor points of ``rule``, clipped outside them (NaN stays NaN)."""
    return np.interp(x, [rule.low, rule.high], [rule.score_at_low, rule.score_at_high])


def stepped(count: F64, rule: StepRule) -> F64:
    """``base + step x (count - start)`` clipped to 0..100 (NaN stays NaN)."""
    return clip(rule.base + rule.step * (count - rule.start), 0.0, 100.0)


def _table(c: CoefficientSet, name: str, kind: str) -> F64:
    """The :func:`lookup` table of scores ``name`` over the labels of ``kind`` (built once per set)."""
    return derived(c, ("lookup", name, kind), lambda: lookup_table(c.categorical[name], kind))


def _categorical(kind: str, name: str | None = None) -> Rule:
    def rule(b: PatentBatch, c: CoefficientSet) -> F64:
        scores: F64 = _table(c, name or kind, kind)[b.cat(kind)]
        return scores

    return rule


def _declared_only(b: PatentBatch, c: CoefficientSet) -> F64:
    return np.full(b.size, np.nan)


def validity(b: PatentBatch, c: CoefficientSet) -> F64:
    """Legal status; a granted patent whose term has run out counts as lapsed."""
    status = b.cat("legal_status")
    expired = (status == 1) & (b.col("remaining_term_years") <= 0)
    scores: F64 = _table(c, "validity", "legal_status")[np.where(expired, np.int8(3), status)]
    return scores


def family(b: PatentBatch, c: CoefficientSet) -> F64:
    """40 + 15 per major office (US, EP, JP, KR) + 8 per other office, capped; one count known suffices."""
    major, other = b.col("family_major"), b.col("family_other")
    r = c.rules.family
    score = r.base + r.per_major_office * nan_to_num(major) + r.per_other_office * nan_to_num(other)
    return np.where(np.isnan(major) & np.isnan(other), np.nan, np.minimum(score, r.cap))


def design_around(b: PatentBatch, c: CoefficientSet) -> F64:
    """A shorter first claim has fewer limitations, so it is broader and harder to design around."""
    return linear(b.col("first_claim_chars"), c.rules.design_around)


def claim_set(b: PatentBatch, c: CoefficientSet) -> F64:
    """Points for the number of claims, of independent claims, and for dependent claims layered under them."""
    r = c.rules.claim_set
    count = b.col("claim_count")
    independent = np.minimum(nan_to_num(b.col("independent_claims"), nan=1.0), count)
    layered = (independent >= 1) & (count > independent)
    score = (
        r.base
        + r.count_points * np.minimum(count / r.full_count, 1.0)
        + r.independent_points * np.minimum(independent / r.full_independent, 1.0)
        + r.layering_points * layered
    )
    return score  # NaN where the claim count is unknown; 0 claims is data and scores the base


def originality(b: PatentBatch, c: CoefficientSet) -> F64:
    """Declared pioneering/improvement; else an index that falls as the patent cites more prior art."""
    declared = _table(c, "originality", "originality")[b.cat("originality")]
    from_citations = linear(b.col("backward_citations"), c.rules.originality_from_backward_citations)
    return np.where(np.isnan(declared), from_citations, declared)


def citations(b: PatentBatch, c: CoefficientSet) -> F64:
    """Percentile of forward citations within the cohort (filing year x IPC section); log scale otherwise.

    A precomputed ``citation_percentile`` (the cohort over the whole database) is used when given.
    """
    cited = b.col("forward_citations")
    given = b.col("citation_percentile")
    from_batch = np.isnan(given) | np.isnan(cited)
    if not from_batch.any():  # every patent has its percentile over the database: the batch's ranks go unused
        return given.copy()
    rule = c.rules.citations
    log_score = np.minimum(100.0, 100.0 * np.log1p(cited) / np.log1p(rule.log_full_count))
    year = b.col("filing_year")
    known = ~np.isnan(cited) & ~np.isnan(year) & (b.ipc_section > 0)
    cohort = np.where(known, nan_to_num(year).astype(np.int64) * 16 + b.ipc_section, -1)
    pct, size = cohort_percentile(cohort, np.rint(nan_to_num(cited)).astype(np.int64))
    in_batch = np.where(known & (size >= rule.min_cohort), pct, log_score)
    # A percentile over the whole database (precomputed by the service) wins over the batch's own cohorts.
    return np.where(from_batch, in_batch, given)


_VALUE_BITS = 31  # counts up to 2^31 - 1 share one int64 sort key with the cohort


def cohort_percentile(cohort: NDArray[np.int64], value: NDArray[np.int64]) -> tuple[F64, NDArray[np.int64]]:
    """Mid-rank percentile (0-100) of each count within its cohort, and the cohort's size.

    Ties count half, so raising one count never lowers its percentile. Cohort ``-1`` is ignored
    (size 0). Runs in one sort of a combined int64 key: O(n log n), no loop per cohort.
    """
    n = value.shape[0]
    pct, size = np.full(n, np.nan), np.zeros(n, np.int64)
    if n == 0:
        return pct, size
    value = np.clip(value, 0, (1 << _VALUE_BITS) - 1)
    order = np.argsort(((cohort + 1) << _VALUE_BITS) | value)
    k, v = cohort[order], value[order]
    idx = np.arange(n)
    new_cohort = np.concatenate(([True], k[1:] != k[:-1]))
    new_run = new_cohort | np.concatenate(([True], v[1:] != v[:-1]))
    cohort_start = np.maximum.accumulate(np.where(new_cohort, idx, 0))
    run_start = np.maximum.accumulate(np.where(new_run, idx, 0))
    cohort_end = np.minimum.accumulate(np.where(np.concatenate((new_cohort[1:], [True])), idx, n)[::-1])[::-1] + 1
    run_end = np.minimum.accumulate(np.where(np.concatenate((new_run[1:], [True])), idx, n)[::-1])[::-1] + 1
    others = cohort_end - cohort_start - 1
    below = run_start - cohort_start
    ties = run_end - run_start - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        sorted_pct = np.where(others > 0, 100.0 * (below + 0.5 * ties) / others, 50.0)
    pct[order] = sorted_pct
    size[order] = np.where(k >= 0, cohort_end - cohort_start, 0)
    return pct, size


def fields(b: PatentBatch, c: CoefficientSet) -> F64:
    """Distinct IPC subclasses the patent is classified in."""
    return stepped(b.col("ipc_subclasses"), c.rules.fields)


def breadth(b: PatentBatch, c: CoefficientSet) -> F64:
    """Distinct IPC sections the patent is classified in."""
    return stepped(b.col("ipc_sections"), c.rules.breadth)


def economic_life(b: PatentBatch, c: CoefficientSet) -> F64:
    """min(economic life, legal term left) against a reference life for the patent's type."""
    years = np.fmin(b.col("economic_life_years"), b.col("remaining_term_years"))
    refs = c.rules.economic_life_reference_years
    reference = derived(c, "life_reference", lambda: np.array([np.nan] + [refs[t] for t in PATENT_TYPES]))
    score: F64 = clip(100.0 * years / reference[b.patent_type], 0.0, 100.0)
    return score


def defensive(b: PatentBatch, c: CoefficientSet) -> F64:
    """The enterprise's related patents in the same IPC subclass: a thicket defends this one."""
    return stepped(b.col("related_patents"), c.rules.defensive)


def sales(b: PatentBatch, c: CoefficientSet) -> F64:
    """50 at the chain's median sales, plus or minus points per tenfold, clipped to 0..100."""
    ratio = (b.col("sales") + 1.0) / (b.col("chain_median_sales") + 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return clip(50.0 + c.rules.sales.points_per_decade * np.log10(ratio), 0.0, 100.0)


def market_share(b: PatentBatch, c: CoefficientSet) -> F64:
    """Banded market share (bounds are lower bounds of the next band)."""
    share = b.col("market_share")
    missing = np.isnan(share)
    if missing.all():  # usually only declared: no band to look up
        return np.full(share.shape[0], np.nan)
    rule = c.rules.market_share
    bounds = derived(c, "share_bounds", lambda: np.asarray(rule.bounds))
    table = derived(c, "share_scores", lambda: np.asarray(rule.scores))
    scores = table[np.searchsorted(bounds, nan_to_num(share), side="right")]
    return np.where(missing, np.nan, scores)


def policy_fit(b: PatentBatch, c: CoefficientSet) -> F64:
    """Declared fit; else whether the patent's chain is on the strategic / 专利密集型产业 list."""
    declared = _table(c, "policy_fit", "policy_fit")[b.cat("policy_fit")]
    from_chain = derived(c, "policy_by_chain", lambda: _policy_by_chain(c))[b.chain]
    return np.where(np.isnan(declared), from_chain, declared)


def _policy_by_chain(c: CoefficientSet) -> F64:
    """Policy-fit score per chain index, then NaN (chain -1 picks the trailing NaN)."""
    by_chain = [c.categorical["policy_fit"][c.policy_fit_by_chain[code]] for code in CHAIN_CODES]
    return np.array([*by_chain, np.nan])


RULES: dict[str, Rule] = {
    "validity": validity,
    "family": family,
    "invalidation": _categorical("invalidation"),
    "design_around": design_around,
    "claim_set": claim_set,
    "claim_types": _categorical("claim_types"),
    "dependency": _categorical("dependency"),
    "importance": _declared_only,
    "originality": originality,
    "effect": _declared_only,
    "citations": citations,
    "substitutes": _categorical("substitutes"),
    "fields": fields,
    "breadth": breadth,
    "complementary": _categorical("complementary"),
    "maturity": _categorical("maturity"),
    "lifecycle": _categorical("lifecycle"),
    "economic_life": economic_life,
    "defensive": defensive,
    "control": _declared_only,
    "competitors": _categorical("competitors"),
    "sales": sales,
    "market_share": market_share,
    "policy_fit": policy_fit,
    "licensing": _categorical("licensing"),
    "financing": _categorical("financing"),
    "litigation": _categorical("litigation"),
}
