"""The ten entry criteria of the cultivation pool (入库企业基本标准), each pass / fail / unknown.

Usage::

    results = evaluate_entry(facts, "广东", DEFAULT_POOL_POLICY, lang="zh")
    blocking = [r for r in results if r.verdict != "pass"]

A criterion made of several conditions combines them in three-valued logic: one failed condition
fails an "and", one passed condition passes an "or", and a missing fact otherwise gives
``unknown``. The reason names the conditions that decided the verdict, with the figures.
"""

from collections.abc import Sequence
from typing import Literal

import msgspec

from matching.facts import Certification, EnterpriseFacts
from matching.i18n import Lang, Text, money
from matching.policy import PoolPolicy

Verdict = Literal["pass", "fail", "unknown"]
Part = tuple[Verdict, str]

_SEP = {"zh": "；", "en": "; "}
_CERT_NAMES: dict[Certification, Text] = {
    "zjtx": Text("专精特新", "specialised and innovative (zjtx)"),
    "hnte": Text("高新技术企业", "high-tech enterprise"),
    "ip_advantage": Text("知识产权优势企业", "IP advantage enterprise"),
    "ip_demo": Text("知识产权示范企业", "IP demonstration enterprise"),
}


class CriterionResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one entry criterion; an operator may override a non-pass in writing."""

    number: int
    code: str
    verdict: Verdict
    reason: str
    override_justification: str | None = None

    @property
    def satisfied(self) -> bool:
        """True when the criterion passed or an operator overrode it."""
        return self.verdict == "pass" or self.override_justification is not None


def _flag(value: bool | None, lang: Lang, yes: Text, no: Text, missing: Text, good: bool = True) -> Part:
    """One boolean condition; ``good`` says which value passes."""
    if value is None:
        return "unknown", missing.render(lang)
    return ("pass" if value == good else "fail"), (yes if value else no).render(lang)


def _combine(parts: Sequence[Part], mode: Literal["all", "any"], lang: Lang) -> tuple[Verdict, str]:
    """Combine conditions in three-valued logic and keep the reasons that decided it."""
    verdicts = {v for v, _ in parts}
    decisive: Verdict = "fail" if mode == "all" else "pass"
    if decisive in verdicts:
        verdict = decisive
    elif "unknown" in verdicts:
        verdict = "unknown"
    else:
        verdict = "pass" if mode == "all" else "fail"
    return verdict, _SEP[lang].join(text for v, text in parts if v == verdict)


def _registered_sme(f: EnterpriseFacts, province: str, lang: Lang) -> tuple[Verdict, str]:
    here = f.province == province
    parts: list[Part] = [
        ("pass" if here else "fail", Text("注册地{p}", "registered in {p}").render(lang, p=f.province)),
        _flag(
            f.independent_legal_person,
            lang,
            Text("具有独立法人资格", "independent legal person"),
            Text("非独立法人", "not an independent legal person"),
            Text("法人资格未填报", "legal-person status not on record"),
        ),
    ]
    if not here:
        parts[0] = (
            "fail",
            Text("注册地{p}，不在{q}", "registered in {p}, not {q}").render(lang, p=f.province, q=province),
        )
    if f.size_class is None:
        parts.append(("unknown", Text("企业规模未填报", "size class not on record").render(lang)))
    elif f.size_class == "large":
        parts.append(("fail", Text("大型企业，不属于中小企业", "a large enterprise, not an SME").render(lang)))
    else:
        names = {
            "micro": Text("微型企业", "micro"),
            "small": Text("小型企业", "small"),
            "medium": Text("中型企业", "medium"),
        }
        parts.append(("pass", Text("{s}", "{s} SME").render(lang, s=names[f.size_class].render(lang))))
    return _combine(parts, "all", lang)


def _recognition(f: EnterpriseFacts, lang: Lang) -> tuple[Verdict, str]:
    if f.certifications is None:
        return "unknown", Text("资质认定未填报", "recognitions not on record").render(lang)
    if not f.certifications:
        return "fail", Text(
            "无专精特新、高新技术企业或知识产权优势/示范企业认定", "no zjtx, high-tech or IP advantage/demo recognition"
        ).render(lang)
    names = [_CERT_NAMES[c].render(lang) for c in sorted(f.certifications)]
    return "pass", Text("已认定：{n}", "recognised: {n}").render(
        lang, n="、".join(names) if lang == "zh" else ", ".join(names)
    )


def _patent_intensive(f: EnterpriseFacts, lang: Lang) -> tuple[Verdict, str]:
    return _flag(
        f.patent_intensive_industry,
        lang,
        Text("主营业务属于专利密集型产业", "main business in a patent-intensive industry"),
        Text("主营业务不属于专利密集型产业", "main business not in a patent-intensive industry"),
        Text("主营业务所属产业未填报", "industry of the main business not on record"),
    )


def _core_patents(f: EnterpriseFacts, lang: Lang) -> tuple[Verdict, str]:
    parts = [
        _flag(
            f.core_patents_in_main_products,
            lang,
            Text("主营产品应用核心专利技术", "core patents used in the main products"),
            Text("主营产品未应用核心专利技术", "main products do not use core patents"),
            Text("核心专利应用情况未填报", "use of core patents not on record"),
        ),
        _flag(
            f.patent_products_filed,
            lang,
            Text("已完成专利产品备案", "patent products filed (专利产品备案)"),
            Text("未完成专利产品备案", "patent products not filed (专利产品备案)"),
            Text("专利产品备案情况未填报", "patent-product filing not on record"),
        ),
    ]
    return _combine(parts, "all", lang)


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if abs(x * 100 - round(x * 100)) < 1e-9 else f"{x * 100:.1f}%"


def _industrialisation(f: EnterpriseFacts, policy: PoolPolicy, lang: Lang) -> tuple[Verdict, str]:
    need = policy.entry.min_industrialisation_rate
    if f.industrialisation_rate is None:
        return "unknown", Text("专利产业化率未填报", "patent industrialisation rate not on record").render(lang)
    ok = f.industrialisation_rate >= need
    text = Text("专利产业化率 {r} {op} {n}", "patent industrialisation rate {r} {op} {n}")
    return ("pass" if ok else "fail"), text.render(
        lang, r=_pct(f.industrialisation_rate), op="≥" if ok else "<", n=_pct(need)
    )


def _rd_spend(f: EnterpriseFacts, policy: PoolPolicy, lang: Lang) -> tuple[Verdict, str]:
    t = policy.entry
    rd, revenue = f.rd_spend_last_year, f.revenue_last_year
    if rd is None:
        return "unknown", Text("上年度研发投入未填报", "last year's R&D spend not on record").render(lang)
    absolute: Part = (
        ("pass" if rd >= t.min_rd_spend_yuan else "fail"),
        Text("研发投入 {a} {op} {n}", "R&D spend {a} {op} {n}").render(
            lang, a=money(rd, lang), op="≥" if rd >= t.min_rd_spend_yuan else "<", n=money(t.min_rd_spend_yuan, lang)
        ),
    )
    if revenue is None:
        ratio: Part = ("unknown", Text("上年度营业收入未填报", "last year's revenue not on record").render(lang))
    else:
        ok = rd > 0 and rd >= t.min_rd_spend_ratio * revenue
        share = _pct(rd / revenue) if revenue > 0 else "—"
        ratio = (
            ("pass" if ok else "fail"),
            Text("研发投入占营业收入 {s} {op} {n}", "R&D spend is {s} of revenue {op} {n}").render(
                lang, s=share, op="≥" if ok else "<", n=_pct(t.min_rd_spend_ratio)
            ),
        )
    return _combine([ratio, absolute], "any", lang)


def _rd_staff(f: EnterpriseFacts, policy: PoolPolicy, lang: Lang) -> tuple[Verdict, str]:
    need = policy.entry.min_rd_staff_ratio
    if f.rd_staff is None or not f.employees:
        staff: Part = ("unknown", Text("研发人员或职工人数未填报", "R&D staff or headcount not on record").render(lang))
    else:
        share = f.rd_staff / f.employees
        ok = share >= need
        staff = (
            ("pass" if ok else "fail"),
            Text("研发人员占职工总数 {s} {op} {n}", "R&D staff are {s} of employees {op} {n}").render(
                lang, s=_pct(share), op="≥" if ok else "<", n=_pct(need)
            ),
        )
    partner = _flag(
        f.university_partnership,
        lang,
        Text("与高校或科研院所建立稳定合作关系", "stable partnership with a university or institute"),
        Text("无稳定的产学研合作", "no stable university or institute partnership"),
        Text("产学研合作情况未填报", "university partnership not on record"),
    )
    return _combine([staff, partner], "any", lang)


def _trademark(f: EnterpriseFacts, lang: Lang) -> tuple[Verdict, str]:
    return _flag(
        f.owns_trademark,
        lang,
        Text("拥有自主商标品牌", "owns a trademark brand"),
        Text("无自主商标品牌", "owns no trademark brand"),
        Text("商标情况未填报", "trademarks not on record"),
    )


def _ip_management(f: EnterpriseFacts, lang: Lang) -> tuple[Verdict, str]:
    return _flag(
        f.ip_management_system,
        lang,
        Text("建立知识产权管理制度", "has an IP management system"),
        Text("未建立知识产权管理制度", "has no IP management system"),
        Text("知识产权管理制度情况未填报", "IP management system not on record"),
    )


def _literal(text: str) -> Text:
    return Text(text, text)


def _clean_record(f: EnterpriseFacts, lang: Lang) -> tuple[Verdict, str]:
    checks = [
        (f.abnormal_patent_filing, Text("非正常专利申请", "abnormal patent filing")),
        (f.major_safety_accident, Text("重大安全事故", "major safety accident")),
        (f.violation, Text("违法违规行为", "violation of laws or rules")),
        (f.serious_dishonesty, Text("严重失信行为", "serious dishonesty")),
    ]
    parts = [
        _flag(
            flag,
            lang,
            _literal(Text("存在{w}", "has a record of {w}").render(lang, w=what.render(lang))),
            _literal(Text("无{w}", "no {w}").render(lang, w=what.render(lang))),
            _literal(Text("{w}情况未核实", "{w} not checked").render(lang, w=what.render(lang))),
            good=False,
        )
        for flag, what in checks
    ]
    return _combine(parts, "all", lang)


_CODES = (
    "registered_sme",
    "recognition",
    "patent_intensive_industry",
    "core_patents_filed",
    "industrialisation_rate",
    "rd_spend",
    "rd_staff",
    "trademark",
    "ip_management",
    "clean_record",
)
#: Criterion codes in the order of the programme's list (number = index + 1).
CRITERION_CODES: tuple[str, ...] = _CODES


def evaluate_entry(
    facts: EnterpriseFacts, province_of_pool: str, policy: PoolPolicy, lang: Lang = "zh"
) -> list[CriterionResult]:
    """Check the ten entry criteria of the pool of ``province_of_pool``.

    Args:
        facts: What is on record about the enterprise.
        province_of_pool: The province whose pool the enterprise applies to ("广东").
        policy: The pool policy version supplying the thresholds.
        lang: Language of the reasons.

    Returns:
        Ten results, numbered 1-10 in the programme's order.
    """
    outcomes = (
        _registered_sme(facts, province_of_pool, lang),
        _recognition(facts, lang),
        _patent_intensive(facts, lang),
        _core_patents(facts, lang),
        _industrialisation(facts, policy, lang),
        _rd_spend(facts, policy, lang),
        _rd_staff(facts, policy, lang),
        _trademark(facts, lang),
        _ip_management(facts, lang),
        _clean_record(facts, lang),
    )
    return [
        CriterionResult(number=i + 1, code=code, verdict=verdict, reason=reason)
        for i, (code, (verdict, reason)) in enumerate(zip(_CODES, outcomes, strict=True))
    ]
