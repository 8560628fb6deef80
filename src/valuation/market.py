"""Market approach: the k nearest recorded transactions of the same chain within the window.

Features are the 27 indicator scores plus log revenue, standardised over the comparable pool
(scikit-learn ``StandardScaler`` + ``NearestNeighbors``). Each neighbour's price is scaled by
revenue (price x target revenue / its revenue); the estimate is the median of the k scaled prices,
robust to one odd deal. Fewer comparables than the coefficient set's minimum -> not applicable.
One model is fitted per chain and queried for all that chain's targets at once.

Fitted models are cached per process, keyed by a digest of the comparable pool's features and k:
a changed, added or removed transaction changes the key, so a stale model is never used. Small
queries (an assessment's few patents) run single-threaded: an OpenMP team for one row costs more
than the query itself, more so on a shared, loaded machine.
"""

import collections
import dataclasses
import datetime as dt
import hashlib
from typing import Any

import msgspec
import numpy as np
from numpy.typing import NDArray

from valuation.batch import F64
from valuation.codes import CHAIN_CODES, N_INDICATORS
from valuation.coefficients import CoefficientSet
from valuation.errors import ValuationInputError
from valuation.text import say
from valuation.types import Lang


@dataclasses.dataclass(frozen=True, slots=True)
class Transactions:
    """Recorded priced transactions (pledges, transfers, licences), one row each."""

    ids: NDArray[np.str_]
    chain: NDArray[np.int16]  # index into CHAIN_CODES
    day: NDArray[np.int64]  # date.toordinal() of the transaction
    price: F64
    revenue: F64  # yearly sales of the patented product at the time
    scores: F64  # (m, 27) indicator scores of the patent at the time

    def __post_init__(self) -> None:
        m = self.ids.shape[0]
        if any(a.shape != (m,) for a in (self.chain, self.day, self.price, self.revenue)):
            raise ValuationInputError("transactions", "every column needs one row per transaction")
        if self.scores.shape != (m, N_INDICATORS):
            raise ValuationInputError("transactions.scores", f"needs shape (m, {N_INDICATORS})")


@dataclasses.dataclass(frozen=True, slots=True)
class MarketArrays:
    """Per-target market estimate; ``neighbours`` indexes ``Transactions`` rows (-1 = none)."""

    value: F64  # NaN when not applicable
    pool_size: NDArray[np.int64]  # comparables available for the target's chain and window
    neighbours: NDArray[np.int64]  # (n, k)
    distances: F64  # (n, k) in standardised units
    scaled_prices: F64  # (n, k)


def _features(scores: F64, revenue: F64) -> F64:
    return np.column_stack([scores, np.log(revenue)])


def market_values(
    scores: F64, revenue: F64, chain: NDArray[np.int16], tx: Transactions, as_of: dt.date, coeffs: CoefficientSet
) -> MarketArrays:
    """Market-approach estimate for each target.

    Args:
        scores: (n, 27) indicator scores of the targets.
        revenue: Yearly sales of each target's product (≤ 0 or NaN -> not applicable).
        chain: Chain index of each target (-1 -> not applicable).
        tx: Recorded transactions.
        as_of: Valuation date; transactions after it or older than the window are ignored.
        coeffs: Coefficient set (window, minimum comparables, k).

    Returns:
        Estimates and the neighbours used.
    """
    n, k, settings = scores.shape[0], coeffs.market.neighbours, coeffs.market
    out = MarketArrays(
        np.full(n, np.nan), np.zeros(n, np.int64), np.full((n, k), -1), np.full((n, k), np.nan), np.full((n, k), np.nan)
    )
    today = as_of.toordinal()
    recent = (tx.day <= today) & (tx.day >= today - settings.window_years * 365.25)
    usable = recent & (tx.price > 0) & (tx.revenue > 0) & np.isfinite(tx.price) & np.isfinite(tx.revenue)
    with np.errstate(invalid="ignore"):
        target_ok = np.isfinite(revenue) & (revenue > 0)
    for c in np.unique(chain[chain >= 0]):
        pool = np.flatnonzero(usable & (tx.chain == c))
        rows = np.flatnonzero(chain == c)
        out.pool_size[rows] = pool.size
        rows = rows[target_ok[rows]]
        if pool.size < settings.min_comparables or rows.size == 0:
            continue
        kk = min(k, pool.size)
        dist, idx = _fitted(_features(tx.scores[pool], tx.revenue[pool]), kk).query(
            _features(scores[rows], revenue[rows])
        )
        chosen = pool[idx]
        scaled = tx.price[chosen] * revenue[rows, None] / tx.revenue[chosen]
        out.neighbours[rows, :kk] = chosen
        out.distances[rows, :kk] = dist
        out.scaled_prices[rows, :kk] = scaled
        out.value[rows] = _row_medians(scaled)
    return out


def _row_medians(x: F64) -> F64:
    """``np.median(x, axis=1)`` with less overhead for small arrays: the same middle values, the same mean.

    ``np.median`` partitions each row and takes the mean of its one or two middle values; here a full sort
    puts the same values in the middle (rows with a NaN go to ``np.median`` itself).
    """
    k = x.shape[1]
    if k == 0 or np.isnan(x).any():
        median: F64 = np.median(x, axis=1)
        return median
    ordered = np.sort(x, axis=1)
    if k % 2:
        return ordered[:, k // 2]
    middle: F64 = (ordered[:, k // 2 - 1] + ordered[:, k // 2]) / 2.0
    return middle


@dataclasses.dataclass(frozen=True, slots=True)
class _Model:
    """A comparable pool standardised and indexed: ``StandardScaler`` statistics and ``NearestNeighbors``."""

    mean: F64
    scale: F64
    nn: Any
    brute: bool  # kneighbors runs sklearn's ArgKmin reduction on the fitted rows (see query)

    def query(self, features: F64) -> tuple[F64, NDArray[np.int64]]:
        """Distances and pool positions of the nearest comparables of each row of ``features``.

        A small query calls the brute-force reduction ``NearestNeighbors.kneighbors`` itself delegates to,
        with the same arguments, without its input validation (about two thirds of the call for an
        assessment's few rows): the query rows are float64, C-ordered and finite by construction.
        """
        x = (features - self.mean) / self.scale  # what StandardScaler.transform computes, without its checks
        if x.shape[0] > _SMALL_QUERY:
            dist, idx = self.nn.kneighbors(x)
        else:
            with _single_thread():
                if self.brute and x.flags.c_contiguous and np.isfinite(x).all():
                    dist, idx = _ARGKMIN[0].compute(
                        X=x,
                        Y=self.nn._fit_X,
                        k=self.nn.n_neighbors,
                        metric=self.nn.effective_metric_,
                        metric_kwargs=self.nn.effective_metric_params_,
                        strategy="auto",
                        return_distance=True,
                    )
                else:
                    dist, idx = self.nn.kneighbors(x)
        return dist, idx


_SMALL_QUERY = 256
_MODELS: collections.OrderedDict[bytes, _Model] = collections.OrderedDict()
_MODELS_MAX = 128
_THREADS: list[bool] = []  # whether _OneThread.libraries is set
_ARGKMIN: list[Any] = []  # sklearn's ArgKmin dispatcher, imported with the first fitted model


class _OneThread:
    """Limits the OpenMP libraries to one thread inside ``with`` and restores their limits after.

    What ``ThreadpoolController.limit(limits=1, user_api="openmp")`` does, through the library controllers
    selected once per process (a ``limit`` call selects them again and builds a limiter on every query).
    """

    __slots__ = ("saved",)
    libraries: list[Any] = []

    def __enter__(self) -> None:
        self.saved = [lib.num_threads for lib in self.libraries]
        for lib in self.libraries:
            lib.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        for lib, n in zip(self.libraries, self.saved, strict=True):
            lib.set_num_threads(n)


def _single_thread() -> _OneThread:
    """A context that limits OpenMP to one thread (the libraries are found once per process)."""
    if not _THREADS:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]  # a scikit-learn dependency

        _OneThread.libraries = ThreadpoolController().select(user_api="openmp").lib_controllers
        _THREADS.append(True)
    return _OneThread()


def _fitted(pool_features: F64, k: int) -> _Model:
    """The model of a comparable pool, fitted once per distinct pool content and k (LRU per process)."""
    digest = hashlib.blake2b(pool_features.tobytes(), digest_size=20)
    digest.update(f"{pool_features.shape}/{k}".encode())
    key = digest.digest()
    model = _MODELS.get(key)
    if model is not None:
        _MODELS.move_to_end(key)
        return model
    from sklearn.neighbors import NearestNeighbors  # imported on first use: it costs seconds at start-up
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(pool_features)
    mean, scale = np.asarray(scaler.mean_, np.float64), np.asarray(scaler.scale_, np.float64)
    nn = NearestNeighbors(n_neighbors=k).fit((pool_features - mean) / scale)
    model = _Model(mean, scale, nn, _uses_argkmin(nn))
    _MODELS[key] = model
    if len(_MODELS) > _MODELS_MAX:
        _MODELS.popitem(last=False)
    return model


def _uses_argkmin(nn: Any) -> bool:
    """Whether ``nn.kneighbors`` of float64 rows is ``ArgKmin.compute`` on its fitted rows (brute force, dense)."""
    try:
        from sklearn.metrics._pairwise_distances_reduction import ArgKmin
    except ImportError:  # a scikit-learn without it: always go through kneighbors
        return False
    if not _ARGKMIN:
        _ARGKMIN.append(ArgKmin)
    probe = np.zeros((1, nn._fit_X.shape[1]))
    return bool(nn._fit_method == "brute" and ArgKmin.is_usable_for(probe, nn._fit_X, nn.effective_metric_))


class Comparable(msgspec.Struct, frozen=True):
    """One transaction used as a comparable."""

    id: str
    distance: float
    price: float
    revenue: float
    scaled_price: float


class MarketResult(msgspec.Struct, frozen=True):
    """Market approach for one patent: the estimate, or why it does not apply."""

    applicable: bool
    value: float | None
    comparables_available: int
    comparables: list[Comparable]
    steps: list[str]


def market_value_one(
    scores: F64, revenue: float, chain: str, tx: Transactions, as_of: dt.date, coeffs: CoefficientSet, lang: Lang = "zh"
) -> MarketResult:
    """Market approach for a single patent, reporting the comparables used.

    Args:
        scores: Its 27 indicator scores.
        revenue: Yearly sales of its product.
        chain: Its chain code.
        tx: Recorded transactions.
        as_of: Valuation date.
        coeffs: Coefficient set.
        lang: Language of ``steps``.

    Returns:
        The estimate with its comparables, or ``applicable=False`` with the reason.
    """
    if chain not in CHAIN_CODES:
        raise ValuationInputError("chain", f"must be one of {list(CHAIN_CODES)}")
    chain_idx = np.array([CHAIN_CODES.index(chain)], np.int16)
    res = market_values(scores.reshape(1, -1), np.array([revenue], float), chain_idx, tx, as_of, coeffs)
    return market_result(res, 0, revenue, tx, coeffs, lang)


def market_result(
    res: MarketArrays, i: int, revenue: float, tx: Transactions, coeffs: CoefficientSet, lang: Lang = "zh"
) -> MarketResult:
    """Explain row ``i`` of :func:`market_values`: the comparables used, or why the approach does not apply.

    Args:
        res: The batch's market arrays.
        i: The row.
        revenue: That row's yearly product sales.
        tx: The transactions ``res`` indexes.
        coeffs: Coefficient set.
        lang: Language of ``steps``.

    Returns:
        The estimate with its comparables, or ``applicable=False`` with the reason.
    """
    return market_results(res, i, revenue, tx, coeffs, (lang,))[lang]


def market_results(
    res: MarketArrays, i: int, revenue: float, tx: Transactions, coeffs: CoefficientSet, langs: tuple[Lang, ...]
) -> dict[Lang, MarketResult]:
    """:func:`market_result` in each of ``langs``; the comparables are read once (the results share them)."""
    available = int(res.pool_size[i])
    if not revenue > 0:
        return {lang: MarketResult(False, None, available, [], [say("market.no_revenue", lang)]) for lang in langs}
    if np.isnan(res.value[i]):
        need, years = coeffs.market.min_comparables, f"{coeffs.market.window_years:g}"
        return {
            lang: MarketResult(
                False, None, available, [], [say("market.too_few", lang, n=available, need=need, years=years)]
            )
            for lang in langs
        }
    used = [
        Comparable(str(tx.ids[j]), float(d), float(tx.price[j]), float(tx.revenue[j]), float(s))
        for j, d, s in zip(res.neighbours[i], res.distances[i], res.scaled_prices[i], strict=True)
        if j >= 0
    ]
    value = float(res.value[i])
    text = f"{value:,.2f}"
    return {
        lang: MarketResult(
            True,
            value,
            available,
            used,
            [say("market.used", lang, k=len(used), n=available), say("market.value", lang, value=text)],
        )
        for lang in langs
    }
