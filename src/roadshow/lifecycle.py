"""The event life cycle: draft → open → closed → paired → scheduled → published → completed.

A checked state machine: every status change of an event goes through :func:`transition`, which
refuses a move the table does not allow. Re-pairing (``paired → paired``) and re-solving
(``scheduled → scheduled``) are moves too; editing a published schedule takes it back to
``scheduled`` until it is published again.
"""

from __future__ import annotations

from typing import Final, Literal

EventStatus = Literal["draft", "open", "closed", "paired", "scheduled", "published", "completed"]
STATUSES: Final[tuple[EventStatus, ...]] = ("draft", "open", "closed", "paired", "scheduled", "published", "completed")

Action = Literal["open", "close", "reopen", "pair", "edit_meetings", "schedule", "publish", "complete"]

#: action → (statuses it may start from, status it leads to)
MOVES: Final[dict[Action, tuple[frozenset[EventStatus], EventStatus]]] = {
    "open": (frozenset({"draft"}), "open"),
    "close": (frozenset({"open"}), "closed"),
    "reopen": (frozenset({"closed"}), "open"),
    "pair": (frozenset({"closed", "paired"}), "paired"),
    "edit_meetings": (frozenset({"paired", "scheduled", "published"}), "scheduled"),
    "schedule": (frozenset({"paired", "scheduled", "published"}), "scheduled"),
    "publish": (frozenset({"scheduled"}), "published"),
    "complete": (frozenset({"published"}), "completed"),
}

_NAMES_ZH: Final[dict[str, str]] = {
    "draft": "草稿",
    "open": "报名中",
    "closed": "报名截止",
    "paired": "已配对",
    "scheduled": "已排期（草稿）",
    "published": "已发布",
    "completed": "已结束",
}


class TransitionError(ValueError):
    """A move the life cycle does not allow from the current status."""

    def __init__(self, action: str, status: str, allowed: frozenset[EventStatus]) -> None:
        want = "/".join(sorted(allowed))
        super().__init__(
            f"活动状态为“{_NAMES_ZH.get(status, status)}”，不能执行 {action}（需要 {want}）"
            f" / cannot {action} an event in status {status} (needs {want})"
        )
        self.action = action
        self.status = status


def transition(status: str, action: Action) -> EventStatus:
    """The status after ``action``; raises :class:`TransitionError` when the move is not allowed.

    Args:
        status: The event's current status.
        action: What the operator asks for.

    Returns:
        The new status.
    """
    allowed, target = MOVES[action]
    if status not in allowed:
        raise TransitionError(action, status, allowed)
    if action == "edit_meetings" and status == "paired":
        return "paired"  # edits before the first schedule stay in the pairing stage
    return target


def allows(status: str, action: Action) -> bool:
    """True when ``action`` may run in ``status``."""
    return status in MOVES[action][0]


def status_name(status: str, english: bool = False) -> str:
    """A human name of a status (Chinese unless ``english``)."""
    return status if english else _NAMES_ZH.get(status, status)
