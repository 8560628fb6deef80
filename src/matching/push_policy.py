"""Push-run policy: list length, which pool states are pushed, score precision — versioned data."""

import msgspec


class PushPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """One version of the push-run settings."""

    version: str = "2024.1"
    #: Rows on each institution's list (the best ``top_n`` eligible enterprises).
    top_n: int = 200
    #: Pool states whose enterprises are pushed (graduated enterprises have left the pool).
    pushed_states: tuple[str, ...] = ("admitted",)
    #: Score precision on the list; a smaller change is not a change (see ``push.diff_push``).
    score_decimals: int = 1
    #: Reasons shown per row.
    reasons_per_row: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.top_n <= 10_000 or not 0 <= self.score_decimals <= 4 or not 1 <= self.reasons_per_row <= 7:
            raise ValueError("push policy needs 1 <= top_n <= 10000, 0 <= score_decimals <= 4, 1 <= reasons <= 7")


DEFAULT_PUSH_POLICY = PushPolicy()
