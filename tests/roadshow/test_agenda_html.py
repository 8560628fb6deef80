"""The printable agenda page and the calendar file: Chinese by default, English with ``Accept-Language: en``."""

from __future__ import annotations

import re
from typing import Any

from icalendar import Calendar

from tests.roadshow.helpers import build, expect

API = "/api/v1/roadshow"
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH_LABELS = ["参会机构", "路演环节", "一对一洽谈", "桌号 / 会议室", "洽谈对象", "已发布日程", "北京时间"]
EN_LABELS = ["Participant", "Pitch session", "One-to-one meetings", "Table / room", "Counterpart", "Published agenda"]


def _labels_only(html: str, *data: str) -> str:
    """The page with the participants' own data (names, titles, venues) blanked out."""
    for value in sorted(data, key=len, reverse=True):
        html = html.replace(value, "")
    return html


async def test_agenda_page_in_chinese_and_english(client: Any, db: Any, world: Any) -> None:
    show = await build(client, db, world, n_enterprises=2, n_investors=2, max_meetings=2)
    base = f"{API}/events/{show.event_id}"
    for step in ("close", "pair"):
        await expect(await client.post(f"{base}/{step}", headers=show.op))
    await expect(await client.post(f"{base}/schedule", json={"time_limit_s": 5}, headers=show.op))
    await expect(await client.post(f"{base}/publish", headers=show.op))

    for actor in (world.fund, world.enterprise):
        agenda = await expect(await client.get(f"{base}/agenda", headers=actor.headers))
        assert agenda["items"], "the participant has meetings"
        zh = await client.get(f"{base}/agenda.html", headers=actor.headers)
        assert zh.status_code == 200 and zh.headers["content-type"].startswith("text/html")
        assert '<html lang="zh-CN">' in zh.text
        assert all(label in zh.text for label in ZH_LABELS), zh.text
        assert not any(label in zh.text for label in EN_LABELS)
        assert "第 " in zh.text and " 桌" in zh.text  # table names in Chinese

        en = await client.get(f"{base}/agenda.html", headers={**actor.headers, "Accept-Language": "en-GB,en;q=0.9"})
        assert en.status_code == 200 and '<html lang="en">' in en.text
        assert all(label in en.text for label in EN_LABELS), en.text
        assert "Table " in en.text and not any(label in en.text for label in ZH_LABELS)
        names = [agenda["title"], agenda["organisation_name"], agenda["venue"], agenda["city"] or ""]
        names += [i["counterpart_name"] for i in agenda["items"]] + [i["investor_label"] for i in agenda["items"]]
        leftover = CJK.findall(_labels_only(en.text, *names))
        assert leftover == [], f"Chinese text left on the English page: {''.join(leftover)}"
        if actor is world.enterprise:
            assert "<th>Investor</th>" in en.text and "<th>投资人</th>" in zh.text

        # the calendar file follows the same rule
        zh_ics = Calendar.from_ical((await client.get(f"{base}/agenda.ics", headers=actor.headers)).content)
        en_headers = {**actor.headers, "Accept-Language": "en"}
        en_ics = Calendar.from_ical((await client.get(f"{base}/agenda.ics", headers=en_headers)).content)
        for v in zh_ics.walk("VEVENT"):
            assert str(v["summary"]).startswith("路演洽谈：") and "第 " in str(v["location"])
        for v in en_ics.walk("VEVENT"):
            assert str(v["summary"]).startswith("Roadshow meeting: ") and "Table " in str(v["location"])
        assert len(en_ics.walk("VEVENT")) == len(zh_ics.walk("VEVENT")) == len(agenda["items"])

    # the operator's draft view names itself as such in either language
    params = {"organisation_id": str(world.fund.org.id)}
    draft_en = await client.get(f"{base}/agenda.html", params=params, headers={**show.op, "Accept-Language": "en"})
    assert draft_en.status_code == 200 and "Draft agenda" in draft_en.text
    draft_zh = await client.get(f"{base}/agenda.html", params=params, headers=show.op)
    assert "草稿日程" in draft_zh.text
