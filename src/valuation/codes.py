"""The valuation vocabulary of codes: indicators, dimensions, chains, and categorical labels.

Categorical facts travel through the vectorised core as small integers: code 0 always means
"unknown" (the indicator falls back to a declaration, then to the neutral default) and code ``i``
(1-based) is the ``i``-th label of the tuple below. The coefficient set scores labels by name, so
the JSON stays readable and the arrays stay small.
"""

from typing import Final, Literal

Dimension = Literal["L", "T", "E"]
DIMENSIONS: Final[tuple[Dimension, ...]] = ("L", "T", "E")

# The 27 third-level indicators of GB/T 42748-2023, in a fixed order: column j of every score
# matrix and of the `declared` array is INDICATORS[j].
INDICATORS: Final[tuple[tuple[str, Dimension, str, str], ...]] = (
    ("validity", "L", "专利有效性", "validity"),
    ("family", "L", "同族专利情况", "patent family"),
    ("invalidation", "L", "复审无效情况", "invalidation history"),
    ("design_around", "L", "不可规避性", "design-around difficulty"),
    ("claim_set", "L", "权利要求合理性", "claim set"),
    ("claim_types", "L", "权利要求类型", "claim types"),
    ("dependency", "L", "依赖度", "dependency"),
    ("importance", "T", "技术问题重要性", "importance of the problem"),
    ("originality", "T", "技术原创性", "originality"),
    ("effect", "T", "技术效果", "technical effect"),
    ("citations", "T", "引用情况", "forward citations"),
    ("substitutes", "T", "替代技术方案数量", "substitute solutions"),
    ("fields", "T", "技术领域数量", "number of fields"),
    ("breadth", "T", "技术领域范围", "breadth of fields"),
    ("complementary", "T", "配套技术依存度", "complementary-technology dependence"),
    ("maturity", "T", "技术发展阶段", "maturity"),
    ("lifecycle", "T", "技术生命周期", "life-cycle stage"),
    ("economic_life", "E", "剩余经济寿命", "remaining economic life"),
    ("defensive", "E", "防御性", "defensive value"),
    ("control", "E", "控制力", "market control"),
    ("competitors", "E", "竞争对手情况", "competitors"),
    ("sales", "E", "销售收益", "sales of patented products"),
    ("market_share", "E", "市场占有率", "market share"),
    ("policy_fit", "E", "政策适应性", "policy fit"),
    ("licensing", "E", "转让许可情况", "licences and transfers"),
    ("financing", "E", "融资保险情况", "financing and insurance"),
    ("litigation", "E", "诉讼仲裁情况", "litigation"),
)
INDICATOR_KEYS: Final[tuple[str, ...]] = tuple(row[0] for row in INDICATORS)
INDICATOR_INDEX: Final[dict[str, int]] = {key: j for j, key in enumerate(INDICATOR_KEYS)}
N_INDICATORS: Final[int] = len(INDICATORS)

PatentType = Literal["invention", "utility_model", "design"]
PATENT_TYPES: Final[tuple[PatentType, ...]] = ("invention", "utility_model", "design")

Grade = Literal["A", "B", "C", "D"]
GRADES: Final[tuple[Grade, ...]] = ("A", "B", "C", "D")

# Labels of the categorical facts. The order fixes the integer codes (label i has code i + 1).
LABELS: Final[dict[str, tuple[str, ...]]] = {
    "legal_status": ("granted", "pending", "lapsed", "invalid"),
    "invalidation": ("survived", "never_challenged", "partly_invalidated", "pending"),
    "claim_types": ("product_and_method", "product", "method", "design"),
    "dependency": ("independent", "licensed_in", "unlicensed_third_party"),
    "originality": ("pioneering", "improvement"),
    "substitutes": ("none", "few", "many"),
    "complementary": ("self_sufficient", "moderate", "heavy"),
    "maturity": ("lab", "pilot", "mass_production"),
    "lifecycle": ("emerging_growth", "mature", "declining"),
    "competitors": ("few", "some", "many"),
    "policy_fit": ("listed", "partly", "not_listed"),
    "licensing": ("licensed_out", "transferred", "none"),
    "financing": ("pledged_released_or_insured", "none"),
    "litigation": ("won", "none", "lost_or_defending"),
}

# Chain codes shared with the chain catalogue of the service (ipledge) and the other domains.
CHAINS: Final[tuple[tuple[str, str, str], ...]] = (
    ("ic", "集成电路", "integrated circuits"),
    ("nev", "新能源汽车", "new-energy vehicles"),
    ("ai", "人工智能", "artificial intelligence"),
    ("biomed", "生物医药", "biomedicine"),
    ("meddev", "医疗器械", "medical devices"),
    ("equip", "高端装备/工业母机", "high-end equipment and machine tools"),
    ("robot", "机器人", "robotics"),
    ("materials", "新材料", "new materials"),
    ("pv_storage", "光伏与储能", "photovoltaics and storage"),
    ("ict", "新一代信息通信", "next-generation ICT"),
    ("green", "节能环保", "energy saving and environmental protection"),
    ("agri_food", "现代农业与食品", "modern agriculture and food"),
)
CHAIN_CODES: Final[tuple[str, ...]] = tuple(row[0] for row in CHAINS)
ChainCode = Literal[
    "ic", "nev", "ai", "biomed", "meddev", "equip", "robot", "materials", "pv_storage", "ict", "green", "agri_food"
]

# IPC sections A-H, coded 1..8 for the citation cohorts (filing year x section).
IPC_SECTIONS: Final[str] = "ABCDEFGH"

# Statutory terms (law, not policy): invention 20 years, utility model 10; designs filed from
# 2021-06-01 on have 15 years, earlier ones 10.
LEGAL_TERM_YEARS: Final[dict[PatentType, int]] = {"invention": 20, "utility_model": 10, "design": 15}
DESIGN_TERM_BEFORE_2021_06_01: Final[int] = 10


def code_of(kind: str, label: str | None) -> int:
    """The integer code of a categorical label (0 for ``None``, i.e. unknown).

    Args:
        kind: A key of ``LABELS`` (e.g. ``"maturity"``).
        label: One of its labels, or ``None``.

    Returns:
        ``0`` for unknown, else the 1-based position of ``label``.

    Raises:
        ValueError: When ``label`` is not a label of ``kind``.
    """
    if label is None:
        return 0
    return LABELS[kind].index(label) + 1
