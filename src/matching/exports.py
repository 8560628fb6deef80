"""Push lists as files bankers open in Excel: CSV (UTF-8 with BOM) and XLSX (pure: rows in, bytes out)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import xlsxwriter

from matching.i18n import Lang
from matching.schemas import PushListRow

_HEADERS: dict[Lang, tuple[str, ...]] = {
    "zh": ("排名", "企业名称", "统一社会信用代码", "省份", "产业链", "匹配分", "融资需求（万元）", "变化", "推荐理由"),
    "en": (
        "Rank",
        "Enterprise",
        "Unified social credit code",
        "Province",
        "Chain",
        "Fit score",
        "Financing need (CNY 10k)",
        "Change",
        "Reasons",
    ),
}
_CHANGE: dict[Lang, dict[str, str]] = {
    "zh": {"new": "新增", "changed": "变化", "same": "不变"},
    "en": {"new": "new", "changed": "changed", "same": "unchanged"},
}


def _cells(row: PushListRow, lang: Lang) -> list[object]:
    need = None if row.financing_need is None else round(row.financing_need / 10_000, 1)
    sep = "；" if lang == "zh" else "; "
    return [
        row.rank,
        row.name,
        row.credit_code,
        row.province_name,
        row.chain or "",
        row.score,
        need,
        _CHANGE[lang][row.change],
        sep.join(row.reasons),
    ]


def to_csv(rows: Sequence[PushListRow], lang: Lang = "zh") -> bytes:
    """CSV with a UTF-8 byte-order mark so Excel detects the encoding of the Chinese text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_HEADERS[lang])
    for row in rows:
        writer.writerow(["" if c is None else c for c in _cells(row, lang)])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Sequence[PushListRow], lang: Lang = "zh", title: str = "push list") -> bytes:
    """One worksheet with a frozen header row, a filter, and the credit code kept as text."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("推送名单" if lang == "zh" else "Push list")
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write_row(0, 0, _HEADERS[lang], bold)
    for r, row in enumerate(rows, start=1):
        cells = _cells(row, lang)
        sheet.write_number(r, 0, row.rank)
        sheet.write_string(r, 1, row.name)
        sheet.write_string(r, 2, row.credit_code)
        sheet.write_string(r, 3, str(cells[3]))
        sheet.write_string(r, 4, str(cells[4]))
        sheet.write_number(r, 5, row.score)
        if cells[6] is None:
            sheet.write_blank(r, 6, None)
        else:
            sheet.write_number(r, 6, float(cells[6]))  # type: ignore[arg-type]
        sheet.write_string(r, 7, str(cells[7]))
        sheet.write_string(r, 8, str(cells[8]), wrap)
    for col, width in enumerate((6, 36, 22, 8, 14, 9, 16, 8, 70)):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(1, len(rows)), len(_HEADERS[lang]) - 1)
    book.set_properties({"title": title})
    book.close()
    return out.getvalue()
