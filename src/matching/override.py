"""Operator overrides of entry criteria and the overall entry outcome.

An operator may accept a failed or unknown criterion with a written justification (the shell
audits who and when). Usage::

    results = apply_overrides(evaluate_entry(facts, "广东", policy), overrides)
    entry_outcome(results)   # "eligible" | "ineligible" | "incomplete"
"""

from collections.abc import Sequence
from typing import Annotated, Literal

import msgspec

from matching.entry import CriterionResult

EntryOutcome = Literal["eligible", "ineligible", "incomplete"]


class CriterionOverride(msgspec.Struct, frozen=True, kw_only=True):
    """An operator's written decision to accept a failed or unknown criterion (audited by the shell)."""

    code: str
    justification: Annotated[str, msgspec.Meta(min_length=4, max_length=2000)]


def apply_overrides(
    results: Sequence[CriterionResult], overrides: Sequence[CriterionOverride]
) -> list[CriterionResult]:
    """Attach operator overrides to the criteria they name.

    Raises:
        ValueError: If an override names an unknown criterion, one that already passed, or the
            same criterion twice, or if its justification is blank.
    """
    by_code = {o.code: o for o in overrides}
    if len(by_code) != len(overrides):
        raise ValueError("a criterion is overridden twice")
    known = {r.code: r for r in results}
    for o in overrides:
        if o.code not in known:
            raise ValueError(f"unknown criterion {o.code!r}")
        if known[o.code].verdict == "pass":
            raise ValueError(f"criterion {o.code!r} passed; there is nothing to override")
        if not o.justification.strip():
            raise ValueError(f"override of {o.code!r} needs a written justification")
    return [
        msgspec.structs.replace(r, override_justification=by_code[r.code].justification.strip())
        if r.code in by_code
        else r
        for r in results
    ]


def entry_outcome(results: Sequence[CriterionResult]) -> EntryOutcome:
    """Summarise the check: eligible when every criterion is satisfied, ineligible on an open fail."""
    open_verdicts = {r.verdict for r in results if not r.satisfied}
    if "fail" in open_verdicts:
        return "ineligible"
    return "incomplete" if open_verdicts else "eligible"
