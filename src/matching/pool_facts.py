"""From a registry profile to the facts of the entry check (pure).

The registry keeps what an enterprise declared; the entry criteria speak of facts. Two facts are
not declared and are derived here: *core patents in the main products* holds when the enterprise
owns at least one patent in force (granted, fees paid, not expired) and is false when it owns
none; the four integrity facts come from the profile's ``violation_flags`` (an empty list is a
clean record, as the registry records flags, never their absence).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ipledge.registry.schemas import Enterprise
from matching.facts import Certification, EnterpriseFacts
from matching.progress import ProgressReport

_CERTS: dict[str, Certification] = {
    "zjtx": "zjtx",
    "hnte": "hnte",
    "ip_advantage": "ip_advantage",
    "ip_demo": "ip_demo",
}


def enterprise_facts(ent: Enterprise, province_name: str, patents_in_force: int) -> EnterpriseFacts:
    """Build the entry-check facts of one enterprise.

    Args:
        ent: The registry's enterprise with its profile.
        province_name: Chinese name of its registration province ("广东").
        patents_in_force: How many of its patents are in force.

    Returns:
        The facts; a missing profile field stays ``None`` (the criterion is then ``unknown``).
    """
    flags = set(ent.violation_flags)
    return EnterpriseFacts(
        province=province_name,
        city=ent.city,
        independent_legal_person=ent.independent_legal_person,
        size_class=ent.size_class,
        certifications=frozenset(_CERTS[c] for c in ent.certifications if c in _CERTS),
        patent_intensive_industry=ent.patent_intensive_industry,
        core_patents_in_main_products=patents_in_force > 0,
        patent_products_filed=ent.patent_product_filed,
        industrialisation_rate=ent.patent_industrialisation_rate,
        revenue_last_year=ent.revenue,
        rd_spend_last_year=ent.rd_spend,
        employees=ent.employees,
        rd_staff=ent.rd_staff,
        university_partnership=ent.university_partnership,
        owns_trademark=ent.has_trademark,
        ip_management_system=ent.has_ip_management,
        abnormal_patent_filing="abnormal_filing" in flags,
        major_safety_accident="safety_accident" in flags,
        violation=bool(flags & {"violation", "tax_evasion", "data_fraud"}),
        serious_dishonesty="dishonesty" in flags,
    )


def progress_report(row: Mapping[str, Any] | Any) -> ProgressReport:
    """A stored progress report (a mapping or a database record) as the core's type."""
    rate = row["industrialisation_rate"]
    return ProgressReport(
        reported_on=row["reported_on"],
        industrialisation_rate=None if rate is None else float(rate),
        new_patent_intensive_products=int(row["new_patent_intensive_products"]),
        product_sales_growth=row["product_sales_growth"],
        product_profit_growth=row["product_profit_growth"],
    )
