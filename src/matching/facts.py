"""What the pool rules know about an enterprise: the input of the entry check.

``None`` always means "not on record"; a criterion that needs a missing fact evaluates to
``unknown`` rather than ``fail``, so the operator sees what to ask for.
"""

from typing import Annotated, Literal

import msgspec

SizeClass = Literal["micro", "small", "medium", "large"]
#: zjtx 专精特新, hnte 高新技术企业, ip_advantage 知识产权优势企业, ip_demo 知识产权示范企业.
Certification = Literal["zjtx", "hnte", "ip_advantage", "ip_demo"]

Fraction = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Yuan = Annotated[float, msgspec.Meta(ge=0.0)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class EnterpriseFacts(msgspec.Struct, frozen=True, kw_only=True):
    """Facts for the ten entry criteria (入库企业基本标准).

    Province and city are plain names ("广东", "深圳"); the service validates them against its
    catalogue before they reach the core.
    """

    province: str
    city: str | None = None
    independent_legal_person: bool | None = None
    #: Size under 《中小企业划型标准规定》; ``large`` is not an SME.
    size_class: SizeClass | None = None
    #: ``None`` = unknown; an empty set = known to hold none.
    certifications: frozenset[Certification] | None = None
    patent_intensive_industry: bool | None = None
    core_patents_in_main_products: bool | None = None
    #: 专利产品备案 done.
    patent_products_filed: bool | None = None
    industrialisation_rate: Fraction | None = None
    revenue_last_year: Yuan | None = None
    rd_spend_last_year: Yuan | None = None
    employees: Count | None = None
    rd_staff: Count | None = None
    university_partnership: bool | None = None
    owns_trademark: bool | None = None
    ip_management_system: bool | None = None
    abnormal_patent_filing: bool | None = None
    major_safety_accident: bool | None = None
    violation: bool | None = None
    serious_dishonesty: bool | None = None
