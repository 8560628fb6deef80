"""The pool state machine: ``applied → under_review → admitted → graduated | withdrawn``, and ``rejected``.

The store calls :func:`check_transition` before writing a new state; an illegal move raises
:class:`InvalidTransitionError`, which the service maps to 409.
"""

from typing import Final, Literal

PoolState = Literal["applied", "under_review", "admitted", "graduated", "withdrawn", "rejected"]

TRANSITIONS: Final[dict[PoolState, frozenset[PoolState]]] = {
    "applied": frozenset({"under_review"}),
    "under_review": frozenset({"admitted", "rejected"}),
    "admitted": frozenset({"graduated", "withdrawn"}),
    "graduated": frozenset(),
    "withdrawn": frozenset(),
    "rejected": frozenset(),
}
#: States an enterprise never leaves; a new application starts a new record.
TERMINAL_STATES: Final[frozenset[PoolState]] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class InvalidTransitionError(ValueError):
    """A pool state change the rules do not allow."""

    def __init__(self, current: str, target: str) -> None:
        allowed = sorted(t for s, nxt in TRANSITIONS.items() if s == current for t in nxt)
        hint = f"allowed from {current!r}: {', '.join(allowed)}" if allowed else f"{current!r} is final"
        super().__init__(f"pool state cannot change from {current!r} to {target!r} ({hint})")
        self.current = current
        self.target = target
        self.allowed = tuple(allowed)


def allowed_transitions(state: PoolState) -> frozenset[PoolState]:
    """Return the states reachable in one step from ``state``."""
    return TRANSITIONS[state]


def check_transition(current: str, target: str) -> PoolState:
    """Validate a state change.

    Args:
        current: The enterprise's present state.
        target: The state the caller wants to write.

    Returns:
        ``target`` typed as a :data:`PoolState`.

    Raises:
        InvalidTransitionError: If ``current`` or ``target`` is unknown or the move is not allowed.
    """
    for state, nxt in TRANSITIONS.items():
        if state == current and target in nxt:
            return next(t for t in nxt if t == target)
    raise InvalidTransitionError(current, target)
