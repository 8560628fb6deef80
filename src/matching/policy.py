"""Pool policy: every threshold, cap and factor of the cultivation-pool rules, as versioned data.

The numbers come from the programme (seed 002) and its provincial notices; operators may load a
newer version without a code change. Results that depend on the policy record ``policy.version``.
"""

import msgspec

#: Provinces with a 计划单列市 (大连, 青岛, 宁波, 厦门, 深圳) get the larger cap.
PLANNED_CITY_PROVINCES: tuple[str, ...] = ("辽宁", "山东", "浙江", "福建", "广东")


class EntryThresholds(msgspec.Struct, frozen=True, kw_only=True):
    """Numeric thresholds of the ten entry criteria (rates are fractions, money in yuan)."""

    min_industrialisation_rate: float = 0.50
    min_rd_spend_ratio: float = 0.10
    min_rd_spend_yuan: float = 5_000_000.0
    min_rd_staff_ratio: float = 0.20


class QuotaPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Per-province admission caps and the rolling-cultivation factor."""

    default_cap: int = 300
    large_cap: int = 500
    large_provinces: tuple[str, ...] = PLANNED_CITY_PROVINCES
    #: Provinces with many 高新技术/专精特新 enterprises, added by the operator.
    extra_large_provinces: tuple[str, ...] = ()
    #: Supplements may not exceed this factor x the province's graduations.
    supplement_factor: int = 2

    def cap_for(self, province: str) -> int:
        """Return the initial-admission cap of ``province``."""
        if province in self.large_provinces or province in self.extra_large_provinces:
            return self.large_cap
        return self.default_cap


class GraduationThresholds(msgspec.Struct, frozen=True, kw_only=True):
    """What counts as the 'model effect' that lets an enterprise graduate (出库)."""

    #: Rise of the 专利产业化率 in percentage points since admission.
    min_rate_rise_points: float = 10.0
    min_new_patent_intensive_products: int = 1
    #: Sales and profit of the recognised 专利密集型产品 must both grow at least this much (fraction).
    min_product_sales_growth: float = 0.20
    min_product_profit_growth: float = 0.20


class WithdrawalPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """When an admitted enterprise without progress is listed for withdrawal (退库)."""

    no_progress_years: int = 2


class PoolPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """One version of all pool rules."""

    version: str = "2024.1"
    entry: EntryThresholds = msgspec.field(default_factory=EntryThresholds)
    quota: QuotaPolicy = msgspec.field(default_factory=QuotaPolicy)
    graduation: GraduationThresholds = msgspec.field(default_factory=GraduationThresholds)
    withdrawal: WithdrawalPolicy = msgspec.field(default_factory=WithdrawalPolicy)


DEFAULT_POOL_POLICY = PoolPolicy()
