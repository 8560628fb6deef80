"""The printable assessment report: Chinese labels by default, English ones with ``Accept-Language: en``."""

from __future__ import annotations

import re
from typing import Any

from tests.valuation.test_api_assessments import patent_row
from valuation.report_labels import LABELS

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # ideographs and full-width punctuation
ZH_LABELS = [
    "专利质押融资快评报告",
    "报告编号",
    "申请概况",
    "（统一社会信用代码 ",
    "建议贷款额（元）",
    " 个月",
    "风险提示",
    "计算过程",
    "逐件专利评估",
    "（不计入质押）",
    "价值度 V（等级）",
    "缺省指标：",
    "不适用",
    "无适用方法",
    "<th>准入条件</th>",
    "<th>来源</th>",
    "说明：",
]
EN_LABELS = [
    "Patent pledge financing: quick assessment report",
    "Application summary",
    " (unified social credit code ",
    "Suggested loan (CNY)",
    " months",
    "Risk flags",
    "Calculation steps",
    "Patent-by-patent assessment",
    "(not counted as collateral)",
    "Value degree V (grade)",
    "defaulted indicators: ",
    "Not applicable",
    "No applicable method",
    "<th>Eligibility gates</th>",
    "<th>Source</th>",
    "Note: ",
]


async def _report(client: Any, world: Any) -> dict[str, Any]:
    """An assessment of one pledgeable patent (a concentration flag) and one lapsed one (excluded)."""
    code = world.enterprise.org.credit_code
    r = await client.patch(
        f"/api/v1/enterprises/{code}",
        headers=world.operator.headers,
        json={"revenue": 3e7, "chain": "ic", "certifications": ["hnte"]},
    )
    assert r.status_code == 200, r.text
    rows = [patent_row(code), patent_row(code, legal_status="lapsed")]
    r = await client.post("/api/v1/patents/import", headers=world.enterprise.headers, json=rows)
    assert r.status_code == 200 and r.json()["imported"] == len(rows), r.text
    body = {"patents": [{"number": row["number"]} for row in rows], "requested_amount": 1_000_000}
    r = await client.post("/api/v1/assessments", headers=world.enterprise.headers, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _data_blanked(html: str, report: dict[str, Any]) -> str:
    """The page without the applicant's own data (enterprise name, patent titles), which may be Chinese."""
    values = [report["enterprise"]["name"]] + [p["title"] for p in report["patents"]]
    for value in sorted(values, key=len, reverse=True):
        html = html.replace(value, "")
    return html


async def test_html_report_labels_follow_accept_language(client: Any, world: Any) -> None:
    report = await _report(client, world)
    assert [p["eligible"] for p in report["patents"]] == [True, False]
    flagged = [f for f in report["flags"] if f["patent_number"]]
    assert flagged, "the page shows a flag naming a patent"
    url = f"/api/v1/assessments/{report['id']}/html"

    zh = await client.get(url, headers=world.enterprise.headers)
    assert zh.status_code == 200 and zh.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in zh.text
    missing = [label for label in ZH_LABELS if label not in zh.text]
    assert missing == [], zh.text
    assert [label for label in EN_LABELS if label in zh.text] == []
    assert f"（{flagged[0]['patent_number']}）" in zh.text
    assert "<td>数据</td>" in zh.text and "级）" in zh.text
    # Codes are named in the page's language: type and status, gates, the defaulted indicators.
    assert "<td>发明 / 授权</td>" in zh.text and "✓ 权利人为申请企业" in zh.text and "缺省指标：" in zh.text
    assert "not_owned" not in zh.text and "invention" not in zh.text and "market_share" not in zh.text

    en = await client.get(url, headers={**world.enterprise.headers, "Accept-Language": "en-GB,en;q=0.9"})
    assert en.status_code == 200 and '<html lang="en">' in en.text
    missing = [label for label in EN_LABELS if label not in en.text]
    assert missing == [], en.text
    left = [label for label in ZH_LABELS if label in en.text]
    assert left == [], f"Chinese labels on the English page: {left}"
    assert f" ({flagged[0]['patent_number']})" in en.text
    assert "<td>data</td>" in en.text and "<td>数据</td>" not in en.text
    assert "<td>invention / granted</td>" in en.text and "✓ owned by the applicant" in en.text
    assert "not_owned" not in en.text and "market_share" not in en.text
    assert re.search(r"\(grade [ABCD]\)", en.text) and "级" not in en.text
    leftover = CJK.findall(_data_blanked(en.text, report))
    assert leftover == [], f"Chinese text left on the English page: {''.join(leftover)}"


def test_labels_exist_in_both_languages_and_english_is_english() -> None:
    zh, en = LABELS["zh"], LABELS["en"]
    assert set(zh) == set(en)
    assert set(zh["sources"]) == set(en["sources"]) == {"data", "declared", "default"}
    from valuation.codes import LABELS as CODE_LABELS
    from valuation.codes import PATENT_TYPES
    from valuation.pledge import GATES

    assert set(zh["names"]) == set(en["names"]) == {*GATES, *PATENT_TYPES, *CODE_LABELS["legal_status"]}
    english = [v for v in en.values() if isinstance(v, str)] + list(en["sources"].values()) + list(en["names"].values())
    assert not [v for v in english if CJK.search(v)]
