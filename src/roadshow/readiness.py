"""Readiness of a pool enterprise to pitch: value degree, growth and financing need (weights are data).

Pure: :func:`rank_readiness` takes facts and a policy and returns the enterprises best first.
Unknown facts score the neutral middle of their component so a missing valuation neither
helps nor sinks an enterprise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec


class ReadinessPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Versioned weights of the readiness score (they sum to 1)."""

    version: str = "2024.1"
    value_degree: float = 0.5
    growth: float = 0.3
    financing_need: float = 0.2
    #: Revenue growth (fraction) that earns the full growth component.
    growth_full_at: float = 0.5
    #: Financing need (yuan) scored 0 at or below ``need_low`` and 1 at or above ``need_high`` (log scale).
    need_low: float = 1e5
    need_high: float = 1e8
    #: Component score used when a fact is unknown.
    unknown: float = 0.5

    def __post_init__(self) -> None:
        total = self.value_degree + self.growth + self.financing_need
        if abs(total - 1.0) > 1e-9 or min(self.value_degree, self.growth, self.financing_need) < 0:
            raise ValueError("readiness weights must be non-negative and sum to 1")
        if not 0 < self.need_low < self.need_high or self.growth_full_at <= 0:
            raise ValueError("readiness policy needs 0 < need_low < need_high and growth_full_at > 0")


DEFAULT_READINESS_POLICY = ReadinessPolicy()


class ReadinessFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What readiness is computed from; None = unknown."""

    enterprise_id: str
    #: Value degree in [0, 1] from valuation (enterprise summary).
    value_degree: float | None = None
    #: Revenue growth as a fraction (0.35 = +35%).
    growth: float | None = None
    financing_need: float | None = None


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    """An enterprise's readiness score in [0, 1] and its rank (1 = most ready)."""

    enterprise_id: str
    score: float
    rank: int


def readiness_score(facts: ReadinessFacts, policy: ReadinessPolicy = DEFAULT_READINESS_POLICY) -> float:
    """Readiness in [0, 1]: a weighted sum of clipped components."""
    value = policy.unknown if facts.value_degree is None else min(max(facts.value_degree, 0.0), 1.0)
    growth = policy.unknown if facts.growth is None else min(max(facts.growth / policy.growth_full_at, 0.0), 1.0)
    if facts.financing_need is None:
        need = policy.unknown
    elif facts.financing_need <= policy.need_low:
        need = 0.0
    else:
        span = math.log(policy.need_high / policy.need_low)
        need = min(math.log(facts.financing_need / policy.need_low) / span, 1.0)
    return policy.value_degree * value + policy.growth * growth + policy.financing_need * need


def rank_readiness(
    facts: Sequence[ReadinessFacts], policy: ReadinessPolicy = DEFAULT_READINESS_POLICY
) -> list[Readiness]:
    """Score and rank enterprises, most ready first (ties broken by id for a stable order)."""
    scored = sorted(((readiness_score(f, policy), f.enterprise_id) for f in facts), key=lambda t: (-t[0], t[1]))
    return [Readiness(enterprise_id=eid, score=round(score, 4), rank=i) for i, (score, eid) in enumerate(scored, 1)]
