"""The 31 provincial-level divisions of the mainland, keyed by their GB/T 2260 two-digit code."""

from __future__ import annotations

from typing import NamedTuple


class Province(NamedTuple):
    code: str
    name_zh: str
    name_en: str


PROVINCES: tuple[Province, ...] = (
    Province("11", "北京", "Beijing"),
    Province("12", "天津", "Tianjin"),
    Province("13", "河北", "Hebei"),
    Province("14", "山西", "Shanxi"),
    Province("15", "内蒙古", "Inner Mongolia"),
    Province("21", "辽宁", "Liaoning"),
    Province("22", "吉林", "Jilin"),
    Province("23", "黑龙江", "Heilongjiang"),
    Province("31", "上海", "Shanghai"),
    Province("32", "江苏", "Jiangsu"),
    Province("33", "浙江", "Zhejiang"),
    Province("34", "安徽", "Anhui"),
    Province("35", "福建", "Fujian"),
    Province("36", "江西", "Jiangxi"),
    Province("37", "山东", "Shandong"),
    Province("41", "河南", "Henan"),
    Province("42", "湖北", "Hubei"),
    Province("43", "湖南", "Hunan"),
    Province("44", "广东", "Guangdong"),
    Province("45", "广西", "Guangxi"),
    Province("46", "海南", "Hainan"),
    Province("50", "重庆", "Chongqing"),
    Province("51", "四川", "Sichuan"),
    Province("52", "贵州", "Guizhou"),
    Province("53", "云南", "Yunnan"),
    Province("54", "西藏", "Tibet"),
    Province("61", "陕西", "Shaanxi"),
    Province("62", "甘肃", "Gansu"),
    Province("63", "青海", "Qinghai"),
    Province("64", "宁夏", "Ningxia"),
    Province("65", "新疆", "Xinjiang"),
)

BY_CODE: dict[str, Province] = {p.code: p for p in PROVINCES}
BY_NAME: dict[str, Province] = {p.name_zh: p for p in PROVINCES}
PROVINCE_CODES: frozenset[str] = frozenset(BY_CODE)


def province_code(value: str) -> str | None:
    """Resolve a province given by code, Chinese name or English name; None when unknown."""
    v = value.strip()
    if v in BY_CODE:
        return v
    if v in BY_NAME:
        return BY_NAME[v].code
    for p in PROVINCES:
        if p.name_en.lower() == v.lower():
            return p.code
    return None
