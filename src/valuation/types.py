"""Reusable constrained aliases: the valuation domain's vocabulary, defined once.

msgspec enforces these when it decodes JSON or converts Python objects, so a ``Rate`` can never be
1.5 and a ``Yuan`` never NaN or infinite (the upper bounds exclude both). The pure functions still
re-check the values they depend on, because a Struct built directly in Python is not validated.
"""

from typing import Annotated, Literal

import msgspec

Lang = Literal["zh", "en"]

# A fraction in [0, 1): tax, royalty, pledge and discount rates, haircuts.
Rate = Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)]
# A discount rate is strictly positive.
PositiveRate = Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)]
# A share of a whole, 1 included (a profit share, a confidence).
Fraction = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
# Money in yuan: non-negative and finite (below 10^15, i.e. numeric(18,2) with room).
Yuan = Annotated[float, msgspec.Meta(ge=0.0, le=1e15)]
# A duration in years.
Years = Annotated[float, msgspec.Meta(ge=0.0, le=100.0)]
# A whole number of periods.
Periods = Annotated[int, msgspec.Meta(ge=1, le=100)]
# An indicator, dimension or value-degree score.
Score = Annotated[float, msgspec.Meta(ge=0.0, le=100.0)]
# A declaration on the 1-5 scale of the spec.
Declared = Annotated[int, msgspec.Meta(ge=1, le=5)]
# A non-negative count (citations, claims, offices).
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
# A stream of yearly amounts.
YuanStream = Annotated[list[Yuan], msgspec.Meta(min_length=1, max_length=100)]
# A coefficient-set or model version: short, printable, no spaces; a path segment as it is (no "/", not "." or "..").
Version = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-+]{0,63}$")]
