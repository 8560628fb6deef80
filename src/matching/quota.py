"""The per-province admission quota (pure decision; the store makes check-and-insert atomic).

A province admits up to its cap as *initial* admissions (300, or 500 for the listed provinces).
Once the cap is reached it may only add *supplements* (滚动培育), and supplements may not exceed
``supplement_factor`` x its graduations. The shell locks the province's counters, calls
:func:`decide_admission`, and inserts in the same transaction.
"""

from typing import Literal

import msgspec

from matching.i18n import Lang, Text
from matching.policy import QuotaPolicy

AdmissionKind = Literal["initial", "supplement", "refused"]


class ProvinceCounts(msgspec.Struct, frozen=True, kw_only=True):
    """A province's pool counters at the moment of the decision."""

    initial_admissions: int
    supplements: int
    graduations: int


class QuotaDecision(msgspec.Struct, frozen=True, kw_only=True):
    """Whether one more enterprise may be admitted, and as what."""

    kind: AdmissionKind
    cap: int
    #: Supplement seats left after this decision's kind is taken into account (0 when refused).
    supplement_limit: int
    reason: str

    @property
    def allowed(self) -> bool:
        """True when the admission may go ahead."""
        return self.kind != "refused"


_INITIAL = Text("首批名额 {n}/{cap}，可作为首批入库", "initial seats {n}/{cap} used: admit as initial")
_SUPPLEMENT = Text(
    "首批名额已满（{cap}）；已出库 {g} 家，可滚动补充 {limit} 家，已补充 {s} 家",
    "initial cap {cap} reached; {g} graduated allow {limit} supplements, {s} used",
)
_REFUSED = Text(
    "首批名额已满（{cap}），滚动补充已达上限：已补充 {s} 家，不超过出库数 {g} 家的 {f} 倍",
    "initial cap {cap} reached and supplements exhausted: {s} used, at most {f} x {g} graduated",
)


def decide_admission(province: str, counts: ProvinceCounts, policy: QuotaPolicy, lang: Lang = "zh") -> QuotaDecision:
    """Decide whether ``province`` may admit one more enterprise.

    Args:
        province: Province name as the pool knows it ("广东").
        counts: The province's current counters.
        policy: Caps, the list of large provinces and the supplement factor.
        lang: Language of the reason.

    Returns:
        ``initial`` while initial admissions are under the cap, else ``supplement`` while
        supplements are under ``supplement_factor`` x graduations, else ``refused``.
    """
    cap = policy.cap_for(province)
    limit = policy.supplement_factor * counts.graduations
    if counts.initial_admissions < cap:
        reason = _INITIAL.render(lang, n=counts.initial_admissions, cap=cap)
        return QuotaDecision(kind="initial", cap=cap, supplement_limit=limit, reason=reason)
    params = {"cap": cap, "g": counts.graduations, "s": counts.supplements, "limit": limit}
    if counts.supplements < limit:
        return QuotaDecision(
            kind="supplement", cap=cap, supplement_limit=limit, reason=_SUPPLEMENT.render(lang, **params)
        )
    reason = _REFUSED.render(lang, f=policy.supplement_factor, **params)
    return QuotaDecision(kind="refused", cap=cap, supplement_limit=limit, reason=reason)
