"""Pure registry rules: patent expiry and chain tagging by IPC prefix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from ipledge.identifiers import TERM_YEARS, PatentType


def expiry_date(patent_type: PatentType, filing_date: date) -> date:
    """The day the statutory term ends: invention 20, utility model 10, design 15 years from filing."""
    years = TERM_YEARS[patent_type]
    try:
        return filing_date.replace(year=filing_date.year + years)
    except ValueError:  # 29 February into a non-leap year
        return filing_date.replace(year=filing_date.year + years, day=28)


def normalise_ipc(code: str) -> str:
    """``H01L 21/02`` → ``H01L21/02`` so that prefixes compare character by character."""
    return code.replace(" ", "").upper()


def tag_chains(ipc_codes: Iterable[str], catalogue: Sequence[tuple[str, Sequence[str]]]) -> list[str]:
    """Chain codes whose IPC prefixes match any of the patent's IPC codes, in catalogue order."""
    codes = [normalise_ipc(c) for c in ipc_codes]
    tagged: list[str] = []
    for chain, prefixes in catalogue:
        norm = [normalise_ipc(p) for p in prefixes]
        if any(code.startswith(prefix) for code in codes for prefix in norm):
            tagged.append(chain)
    return tagged
