"""Labels of the printable agenda page: Chinese by default, English with ``Accept-Language: en``."""

from __future__ import annotations

from typing import Any, Final

from roadshow.schemas import Agenda

#: Every piece of fixed text on the page, per language (same keys in both).
LABELS: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "html_lang": "zh-CN",
        "page_title": "路演日程",
        "organisation": "参会机构",
        "role_enterprise": "（路演企业）",
        "role_investor": "（投资机构）",
        "date": "日期",
        "place": "地点",
        "online": "线上",
        "draft": "草稿日程（尚未发布，仅供运营方核对）",
        "published": "已发布日程",
        "pitch_block": "路演环节",
        "timezone": "（北京时间）",
        "meetings": "一对一洽谈（共 {n} 场）",
        "slot": "时段",
        "time": "时间",
        "table": "桌号 / 会议室",
        "counterpart": "洽谈对象",
        "investor": "投资人",
        "no_meetings": "暂无洽谈安排。",
        "footer": "请提前 5 分钟到达对应桌号；日程如有调整将以最新发布版本为准。",
        "colon": "：",
        "date_format": "%Y年%m月%d日",
    },
    "en": {
        "html_lang": "en",
        "page_title": "Roadshow agenda",
        "organisation": "Participant",
        "role_enterprise": " (pitching enterprise)",
        "role_investor": " (investor)",
        "date": "Date",
        "place": "Venue",
        "online": "Online",
        "draft": "Draft agenda (not yet published; for the operator's review only)",
        "published": "Published agenda",
        "pitch_block": "Pitch session",
        "timezone": " (Beijing time)",
        "meetings": "One-to-one meetings ({n})",
        "slot": "Slot",
        "time": "Time",
        "table": "Table / room",
        "counterpart": "Counterpart",
        "investor": "Investor",
        "no_meetings": "No meetings scheduled.",
        "footer": "Please arrive at your table five minutes early; the latest published version of the agenda applies.",
        "colon": ": ",
        "date_format": "%Y-%m-%d",
    },
}


def page_context(agenda: Agenda, english: bool) -> dict[str, Any]:
    """The template context of ``roadshow_agenda.html``: the agenda and the labels of the chosen language.

    Args:
        agenda: The participant's agenda (built in the same language, so table names match).
        english: True for English labels (``Accept-Language: en``), else Chinese.

    Returns:
        ``{"a": agenda, "t": labels}``.
    """
    return {"a": agenda, "t": LABELS["en" if english else "zh"]}
