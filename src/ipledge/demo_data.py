"""Deterministic, realistic demo data generated from a seed (pure: no I/O).

A few hundred enterprises with Chinese names and valid credit codes across the provinces and
chains, a few thousand patents with valid application numbers and plausible indicators, ten
banks, twenty funds and the operators.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ipledge.identifiers import make_credit_code, make_patent_number

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

CITIES: dict[str, list[str]] = {
    "11": ["北京"],
    "12": ["天津"],
    "13": ["石家庄", "保定"],
    "14": ["太原"],
    "15": ["呼和浩特", "包头"],
    "21": ["沈阳", "大连"],
    "22": ["长春"],
    "23": ["哈尔滨"],
    "31": ["上海"],
    "32": ["南京", "苏州", "无锡", "常州"],
    "33": ["杭州", "宁波", "嘉兴"],
    "34": ["合肥", "芜湖"],
    "35": ["福州", "厦门", "泉州"],
    "36": ["南昌"],
    "37": ["济南", "青岛", "烟台"],
    "41": ["郑州", "洛阳"],
    "42": ["武汉", "襄阳"],
    "43": ["长沙", "株洲"],
    "44": ["深圳", "广州", "东莞", "佛山", "珠海"],
    "45": ["南宁", "柳州"],
    "46": ["海口"],
    "50": ["重庆"],
    "51": ["成都", "绵阳"],
    "52": ["贵阳"],
    "53": ["昆明"],
    "54": ["拉萨"],
    "61": ["西安"],
    "62": ["兰州"],
    "63": ["西宁"],
    "64": ["银川"],
    "65": ["乌鲁木齐"],
}
# Heavier weight where patent-rich SMEs cluster.
_PROVINCE_WEIGHTS = {
    "44": 12,
    "32": 10,
    "33": 9,
    "31": 6,
    "11": 6,
    "37": 6,
    "34": 4,
    "35": 4,
    "42": 4,
    "51": 4,
    "43": 3,
    "41": 3,
    "61": 3,
    "50": 3,
    "21": 2,
    "12": 2,
    "13": 2,
    "36": 2,
}
_BRANDS = list("华瑞创新恒泰宏博智达鼎盛辰星源启航联科微睿晟铭远卓越明德精芯思朗航天安泰正元")
_SUFFIX = ["科技有限公司", "技术有限公司", "股份有限公司", "智能科技有限公司", "新材料有限公司", "装备有限公司"]
CHAIN_WORDS: dict[str, tuple[list[str], list[str]]] = {
    "ic": (["微电子", "芯", "半导体"], ["芯片封装结构", "晶圆检测方法", "存储单元", "功率器件", "模拟前端电路"]),
    "nev": (["新能源", "电驱", "动力"], ["电池热管理系统", "电机控制器", "充电桩", "整车控制方法", "电池包壳体"]),
    "ai": (["智能", "数智", "视觉"], ["图像识别方法", "语音交互装置", "模型训练方法", "目标检测系统", "推荐算法"]),
    "biomed": (["生物", "医药", "药业"], ["抗体制剂", "缓释片", "基因检测试剂盒", "疫苗佐剂", "化合物及其制备方法"]),
    "meddev": (["医疗", "医械", "康复"], ["超声探头", "血糖监测装置", "手术器械", "植入式支架", "监护仪"]),
    "equip": (
        ["精机", "数控", "装备"],
        ["数控机床主轴", "激光焊接装置", "精密夹具", "五轴联动加工方法", "刀具检测系统"],
    ),
    "robot": (
        ["机器人", "自动化", "机电"],
        ["机械臂关节", "伺服驱动器", "谐波减速器", "移动机器人导航方法", "末端执行器"],
    ),
    "materials": (["新材", "高分子", "复材"], ["复合材料制备方法", "高强铝合金", "改性树脂", "纳米涂层", "陶瓷基材料"]),
    "pv_storage": (["光能", "储能", "光伏"], ["光伏组件", "储能变流器", "电池管理系统", "硅片切割方法", "逆变器"]),
    "ict": (["通信", "网联", "光电"], ["光模块", "基站天线", "数据传输方法", "物联网网关", "网络安全设备"]),
    "green": (["环保", "节能", "清源"], ["污水处理装置", "脱硫脱硝系统", "固废资源化方法", "余热回收装置", "除尘器"]),
    "agri_food": (["农业", "食品", "种业"], ["智能灌溉系统", "食品保鲜方法", "育种方法", "农机播种装置", "生物农药"]),
}
_BANKS = [
    "鹏城科创银行",
    "钱江商业银行",
    "齐鲁知识产权银行",
    "长江科技银行",
    "珠江农村商业银行",
    "中原创新银行",
    "海峡科技银行",
    "渤海知识产权银行",
    "天府科创银行",
    "黄浦江商业银行",
]
_FUNDS = [
    "深创知识产权基金",
    "苏州元禾科创基金",
    "杭州数智产业基金",
    "上海硬科技创投",
    "北京中关村天使基金",
    "广东省产业引导基金",
    "合肥芯屏产业基金",
    "武汉光谷创投",
    "成都天府科创基金",
    "青岛蓝色海洋基金",
    "宁波甬江创投",
    "厦门火炬创投",
    "南京紫金科创基金",
    "西安秦创原基金",
    "长沙麓谷创投",
    "东莞松山湖基金",
    "无锡物联网产业基金",
    "重庆两江引导基金",
    "济南泉城创投",
    "珠海横琴科创基金",
]


@dataclass
class DemoOrg:
    kind: str
    name: str
    credit_code: str
    province: str
    city: str
    profile: dict[str, Any] = field(default_factory=dict)
    active: bool = True


@dataclass
class DemoPatent:
    number: str
    title: str
    abstract: str
    owner_code: str
    filing_date: date
    grant_date: date | None
    legal_status: str
    claims_total: int
    claims_independent: int
    claim_types: str
    first_claim: str
    ipc_codes: list[str]
    family_offices: list[str]
    forward_citations: int
    backward_citations: int
    events: list[tuple[str, date]]


@dataclass
class DemoData:
    operators: list[DemoOrg]
    enterprises: list[DemoOrg]
    banks: list[DemoOrg]
    funds: list[DemoOrg]
    patents: list[DemoPatent]


class _Codes:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def credit(self, province: str, prefix: str = "91") -> str:
        while True:
            org = "".join(self.rng.choice(_ORG_ALPHABET) for _ in range(9))
            code = make_credit_code(f"{prefix}{province}{self.rng.randint(1, 20):02d}00{org}")
            if code not in self.used:
                self.used.add(code)
                return code


def _profile(rng: random.Random, chain: str) -> dict[str, Any]:
    revenue = round(rng.lognormvariate(17.6, 0.9), -3)  # median ≈ ¥44m
    employees = max(12, int(revenue / rng.uniform(4e5, 1.2e6)))
    words = CHAIN_WORDS[chain][1]
    return {
        "size_class": "micro" if employees < 20 else "small" if employees < 100 else "medium",
        "independent_legal_person": True,
        "certifications": sorted(
            rng.sample(["zjtx", "hnte", "ip_advantage", "ip_demo"], k=rng.choice([0, 1, 1, 2, 2, 3]))
        ),
        "chain": chain,
        "business_scope": "研发、生产和销售" + "、".join(rng.sample(words, k=3)) + "；技术咨询与技术服务",
        "revenue": revenue,
        "profit": round(revenue * rng.uniform(-0.05, 0.22), -2),
        "rd_spend": round(revenue * rng.uniform(0.03, 0.18), -2),
        "employees": employees,
        "rd_staff": int(employees * rng.uniform(0.08, 0.45)),
        "university_partnership": rng.random() < 0.5,
        "patent_industrialisation_rate": round(rng.uniform(0.25, 0.95), 2),
        "patent_intensive_industry": rng.random() < 0.85,
        "patent_product_filed": rng.random() < 0.7,
        "patent_intensive_products": rng.randint(0, 6),
        "has_trademark": rng.random() < 0.85,
        "has_ip_management": rng.random() < 0.6,
        "violation_flags": ["abnormal_filing"] if rng.random() < 0.02 else [],
        "financing_need": round(rng.choice([1, 2, 3, 5, 8, 10, 20, 30, 50]) * 1e6, 2),
        "consent_share": rng.random() < 0.8,
    }


def _patents(
    rng: random.Random, owner: DemoOrg, chain: str, serials: set[str], today: date, prefixes: dict[str, list[str]]
) -> list[DemoPatent]:
    out: list[DemoPatent] = []
    for _ in range(rng.choice([2, 4, 6, 8, 10, 12, 16, 24])):
        year = rng.randint(2011, today.year - 1)
        digit = rng.choices(["1", "2", "3"], weights=[55, 40, 5])[0]
        while (serial := f"{year}{digit}{rng.randint(0, 9_999_999):07d}") in serials:
            pass
        serials.add(serial)
        filing = date(year, 1, 1) + timedelta(days=rng.randint(0, 364))
        lag = {"1": rng.randint(500, 1500), "2": rng.randint(150, 400), "3": rng.randint(120, 300)}[digit]
        grant: date | None = filing + timedelta(days=lag)
        status = "granted"
        if grant is not None and grant >= today:
            grant, status = None, "pending"
        elif rng.random() < 0.08:
            status = "lapsed"
        stem = rng.choice(CHAIN_WORDS[chain][1])
        kind = "设计" if digit == "3" else rng.choice(["", "及其制备方法", "及系统", "装置"])
        prefix = rng.choice(prefixes[chain])
        ipc = [f"{prefix[:4]} {rng.randint(1, 99)}/{rng.randint(0, 99):02d}"]
        claims = 1 if digit == "3" else rng.randint(3, 20)
        major = ["US", "EP", "JP", "KR"]
        family = rng.sample(major, k=rng.choice([0, 0, 0, 1, 2])) if digit == "1" else []
        events: list[tuple[str, date]] = []
        if status == "granted" and rng.random() < 0.1 and grant is not None:
            events.append(("licence", min(today, grant + timedelta(days=rng.randint(30, 900)))))
        out.append(
            DemoPatent(
                number=make_patent_number(serial),
                title=f"一种{stem}{kind}" if digit != "3" else f"{stem}（外观设计）",
                abstract=f"本发明公开了一种{stem}，属于{CHAIN_WORDS[chain][0][0]}技术领域，提高了性能并降低了成本。",
                owner_code=owner.credit_code,
                filing_date=filing,
                grant_date=grant,
                legal_status=status,
                claims_total=claims,
                claims_independent=1 if claims < 8 else rng.randint(1, 3),
                claim_types="design" if digit == "3" else rng.choice(["product", "method", "product_and_method"]),
                first_claim=f"一种{stem}，其特征在于，包括"
                + "、".join(rng.sample("壳体基板控制模块传感器连接件驱动单元", k=3)),
                ipc_codes=ipc,
                family_offices=family,
                forward_citations=int(rng.expovariate(1 / 4)),
                backward_citations=rng.randint(0, 15),
                events=events,
            )
        )
    return out


def generate(
    seed: int, *, enterprises: int = 300, today: date | None = None, chain_prefixes: dict[str, list[str]] | None = None
) -> DemoData:
    """Generate the whole demo world from ``seed``; the same seed always gives the same data."""
    rng = random.Random(seed)
    today = today or date(2026, 1, 1)
    codes = _Codes(rng)
    prefixes = chain_prefixes or {c: ["H01L"] for c in CHAIN_WORDS}
    provinces = list(CITIES)
    weights = [_PROVINCE_WEIGHTS.get(p, 1) for p in provinces]
    operators = [
        DemoOrg("operator", "ipledge 平台运营方（演示）", codes.credit("11", "11"), "11", "北京"),
        DemoOrg("operator", "广东省知识产权局（演示）", codes.credit("44", "11"), "44", "广州"),
        DemoOrg("operator", "江苏省知识产权局（演示）", codes.credit("32", "11"), "32", "南京"),
    ]
    ents: list[DemoOrg] = []
    names: set[str] = set()
    chains = list(CHAIN_WORDS)
    while len(ents) < enterprises:
        province = rng.choices(provinces, weights)[0]
        city = rng.choice(CITIES[province])
        chain = rng.choice(chains)
        name = city + "".join(rng.sample(_BRANDS, 2)) + rng.choice(CHAIN_WORDS[chain][0]) + rng.choice(_SUFFIX)
        if name in names:
            continue
        names.add(name)
        ents.append(DemoOrg("enterprise", name, codes.credit(province), province, city, _profile(rng, chain)))
    banks = [
        DemoOrg("bank", n, codes.credit(p), p, CITIES[p][0], active=i < 8)
        for i, (n, p) in enumerate(
            zip(_BANKS, ["44", "33", "37", "42", "44", "41", "35", "12", "51", "31"], strict=True)
        )
    ]
    fund_prov = [
        "44",
        "32",
        "33",
        "31",
        "11",
        "44",
        "34",
        "42",
        "51",
        "37",
        "33",
        "35",
        "32",
        "61",
        "43",
        "44",
        "32",
        "50",
        "37",
        "44",
    ]
    funds = [
        DemoOrg("fund", n, codes.credit(p), p, CITIES[p][0], active=i < 18)
        for i, (n, p) in enumerate(zip(_FUNDS, fund_prov, strict=True))
    ]
    serials: set[str] = set()
    patents = [p for e in ents for p in _patents(rng, e, e.profile["chain"], serials, today, prefixes)]
    return DemoData(operators, ents, banks, funds, patents)
