"""Push-list diff: what changed for an institution since the last list it received.

Usage::

    rows = [PushedRow(enterprise_id=e, rank=i + 1, score=s, reasons_hash=reasons_hash(texts)) ...]
    diff = diff_push(last_rows, rows)
    if not diff.is_empty: publish(rows, diff)

Scores are compared after rounding to ``score_decimals`` (the precision the list shows), so
float noise from a re-run is not a change. Running the diff again against the list just
published yields nothing (idempotent), and :func:`apply_diff` turns the old list into the new.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence

import msgspec


class PushedRow(msgspec.Struct, frozen=True, kw_only=True):
    """One enterprise on an institution's list."""

    enterprise_id: str
    rank: int
    score: float
    reasons_hash: str


class PushDiff(msgspec.Struct, frozen=True, kw_only=True):
    """Rows added, rows whose rank, score or reasons changed, and ids no longer on the list."""

    new: list[PushedRow]
    changed: list[PushedRow]
    removed: list[str]

    @property
    def is_empty(self) -> bool:
        """True when the new list equals the last one."""
        return not (self.new or self.changed or self.removed)


def reasons_hash(reasons: Iterable[str]) -> str:
    """Hash a row's reason texts in order (hex SHA-256, 16 bytes)."""
    digest = hashlib.sha256()
    for text in reasons:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(4, "big"))
        digest.update(data)
    return digest.hexdigest()[:32]


def _index(rows: Mapping[str, PushedRow] | Sequence[PushedRow]) -> dict[str, PushedRow]:
    if isinstance(rows, Mapping):
        return dict(rows)
    index = {r.enterprise_id: r for r in rows}
    if len(index) != len(rows):
        raise ValueError("an enterprise appears twice in one push list")
    return index


def diff_push(
    previous: Mapping[str, PushedRow] | Sequence[PushedRow],
    current: Sequence[PushedRow],
    score_decimals: int = 1,
) -> PushDiff:
    """Diff the new ranked list against the last one the institution received.

    Args:
        previous: The last list (rows, or rows keyed by enterprise id); empty for a first push.
        current: The new list in rank order.
        score_decimals: Precision at which a score change counts.

    Returns:
        The new, changed (rank, rounded score or reasons differ) and removed rows, each in rank
        order (removed in the old rank order).

    Raises:
        ValueError: If an enterprise appears twice in a list.
    """
    old = _index(previous)
    now = _index(current)
    new: list[PushedRow] = []
    changed: list[PushedRow] = []
    for row in sorted(now.values(), key=lambda r: r.rank):
        before = old.get(row.enterprise_id)
        if before is None:
            new.append(row)
        elif (
            before.rank != row.rank
            or before.reasons_hash != row.reasons_hash
            or round(before.score, score_decimals) != round(row.score, score_decimals)
        ):
            changed.append(row)
    removed = [r.enterprise_id for r in sorted(old.values(), key=lambda r: r.rank) if r.enterprise_id not in now]
    return PushDiff(new=new, changed=changed, removed=removed)


def apply_diff(previous: Mapping[str, PushedRow] | Sequence[PushedRow], diff: PushDiff) -> dict[str, PushedRow]:
    """Apply a diff to the last list: the receiver's view of the new list, keyed by enterprise id."""
    result = _index(previous)
    for enterprise_id in diff.removed:
        result.pop(enterprise_id, None)
    for row in (*diff.new, *diff.changed):
        result[row.enterprise_id] = row
    return result
