"""Why a pushed row fits: the top reasons of chosen enterprise-institution pairs, in zh or en.

Only rows that made a list are explained. Which reasons to show is decided for all pairs at once
(a shared chain first, then the soft-score components by their weighted contribution); only the
rendering of the chosen texts is a Python loop.

Usage::

    texts = explain_top(ents, insts, result, top, vocab, policy, lang="zh")
    texts[i][r]   # reasons of row r on institution i's list
"""

import itertools
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from matching.fit import FitResult, TopLists
from matching.fit_inputs import STAGES, EnterpriseArrays, InstitutionArrays, Vocabulary
from matching.fit_policy import FitPolicy
from matching.i18n import Lang, Text

_CHAIN, _TEXT, _AMOUNT, _VALUE, _GROWTH, _POOL, _STAGE = range(7)
_YOU: Final = {"bank": Text("贵行", "your"), "vc_pe": Text("贵机构", "your"), "guidance_fund": Text("贵基金", "your")}
_STAGE_NAMES: Final = {
    "seed": Text("种子轮", "seed"),
    "angel": Text("天使轮", "angel"),
    "A": Text("A轮", "series A"),
    "B": Text("B轮", "series B"),
    "pre_ipo": Text("Pre-IPO", "pre-IPO"),
}
_POOL_NAMES: Final = {
    "admitted": Text("专利产业化样板企业培育库在库企业", "in the patent-industrialisation cultivation pool"),
    "graduated": Text("培育库出库企业，培育成效达标", "graduated from the cultivation pool with results"),
}
_TEMPLATES: Final = {
    _CHAIN: Text("同属{chain}产业链", "in the {chain} chain you cover"),
    _TEXT: Text(
        "业务与专利贴合{you}关注方向（相似度{s:.2f}）", "business and patents close to your focus (similarity {s:.2f})"
    ),
    _AMOUNT: Text("融资需求{need} 在{you}{lo}-{hi}区间内", "financing need {need} within your {lo}-{hi} range"),
    _VALUE: Text("专利价值度{v:.0f}分", "patent value degree {v:.0f}/100"),
    _GROWTH: Text("营业收入增长{g:.0%}", "revenue up {g:.0%}"),
    _STAGE: Text("发展阶段（{stage}）符合{you}投资阶段", "stage ({stage}) matches your stages"),
}


def _amount(yuan: float, lang: Lang, unit: bool = True) -> str:
    """800万 / CNY 8m; without ``unit``: 200 / 2m (the first bound of a range)."""
    if lang == "zh":
        figure = f"{yuan / 10_000:.0f}" if yuan % 10_000 == 0 else f"{yuan / 10_000:.1f}"
        return figure + ("万" if unit else "")
    figure = f"{yuan / 1e6:,.0f}m" if yuan % 1e6 == 0 else f"{yuan / 1e6:,.2f}m"
    return f"CNY {figure}" if unit else figure


def _shared_chain(
    ents: EnterpriseArrays, insts: InstitutionArrays, e_idx: npt.NDArray[np.int32], i_idx: npt.NDArray[np.int32]
) -> npt.NDArray[np.intp]:
    """The first chain (vocabulary order) each pair shares, ``-1`` where they share none."""
    n_chain = insts.chain_ok.shape[0] - 1
    if ents.chain_bits is not None and insts.chain_bits is not None:
        both = (ents.chain_bits[e_idx] & insts.chain_bits[i_idx]).astype(np.uint64)
        both &= np.uint64((1 << n_chain) - 1)  # not the "open" bit
        lowest = both & (~both + np.uint64(1))  # the lowest set bit
        first = np.log2(np.maximum(lowest, 1).astype(np.float64)).astype(np.intp)
        return np.where(lowest > 0, first, -1)
    common = ents.chains[e_idx, :n_chain] * insts.chain_ok[:n_chain, i_idx].T
    return np.where(common.any(axis=1), np.argmax(common, axis=1) if n_chain else 0, -1)


def reason_codes(
    ents: EnterpriseArrays,
    insts: InstitutionArrays,
    result: FitResult,
    e_idx: npt.NDArray[np.int32],
    i_idx: npt.NDArray[np.int32],
    policy: FitPolicy,
    k: int = 3,
) -> npt.NDArray[np.int8]:
    """Choose up to ``k`` reason codes per pair (``-1`` = none), best first, for all pairs at once."""
    w = policy.weights
    by_code = np.zeros((7, e_idx.size), np.float32)  # contribution of each reason code, code-major
    shared = _shared_chain(ents, insts, e_idx, i_idx) >= 0
    by_code[_CHAIN] = np.where(insts.has_chains[i_idx] & shared, np.inf, 0.0)
    by_code[_TEXT] = w.text * np.minimum(result.similarity[e_idx, i_idx] / policy.text.full_at, 1.0)
    bounded = ~np.isnan(insts.amount_min[i_idx]) & ~np.isnan(insts.amount_max[i_idx]) & ~np.isnan(ents.need[e_idx])
    dist = np.minimum(np.abs(ents.log_need[e_idx] - insts.amount_center[i_idx]) * insts.amount_inv_half[i_idx], 1.0)
    fit = insts.amount_top[i_idx] - insts.amount_drop[i_idx] * dist
    by_code[_AMOUNT] = np.where(bounded, w.amount * np.nan_to_num(fit), 0.0)
    components = ents.components[e_idx]
    for code, column, weight in ((_VALUE, 0, w.value), (_GROWTH, 1, w.growth), (_POOL, 2, w.pool)):
        by_code[code] = components[:, column] * np.float32(weight)
    stage_hit = insts.stage_score[ents.stage[e_idx], i_idx] == 1.0
    by_code[_STAGE] = np.where(stage_hit & (policy.stage_neutral_score < 1.0), w.stage, 0.0)
    # rank of each code in its row: larger contributions first, ties by lower code (a stable sort)
    n_codes = by_code.shape[0]
    rank = np.zeros(by_code.shape, np.int8)
    for a in range(n_codes):
        for b in range(a + 1, n_codes):
            first = by_code[a] >= by_code[b]
            rank[b] += first
            rank[a] += ~first
    order = np.full((e_idx.size, k), -1, np.int8)
    for code in range(n_codes):
        chosen = np.flatnonzero((rank[code] < k) & (by_code[code] > 0))
        order[chosen, rank[code, chosen]] = code
    return order


class _Renderer:
    """Renders reason codes with templates and money strings resolved once per language."""

    def __init__(self, vocab: Vocabulary, lang: Lang, chain_labels: Mapping[str, Text] | None) -> None:
        self.lang = lang
        self.tpl = {code: (t.zh if lang == "zh" else t.en) for code, t in _TEMPLATES.items()}
        self.you = {kind: t.render(lang) for kind, t in _YOU.items()}
        labels = chain_labels or {}
        self.chains = [labels[c].render(lang) if c in labels else c for c in vocab.chains]
        self.stages = [_STAGE_NAMES[s].render(lang) for s in STAGES]
        self.pool = {status: t.render(lang) for status, t in _POOL_NAMES.items()}
        self.money: dict[tuple[float, bool], str] = {}

    def amount(self, yuan: float, unit: bool = True) -> str:
        key = (yuan, unit)
        if key not in self.money:
            self.money[key] = _amount(yuan, self.lang, unit)
        return self.money[key]

    def render(self, code: int, kind: str, p: tuple[int, float, float, float, float, float, float, int, str]) -> str:
        chain, sim, need, lo, hi, value, growth, stage, status = p
        tpl = self.tpl.get(code, "")
        if code == _CHAIN:
            return tpl.format(chain=self.chains[chain])
        if code == _TEXT:
            return tpl.format(you=self.you[kind], s=sim)
        if code == _AMOUNT:
            return tpl.format(
                you=self.you[kind],
                need=self.amount(need),
                lo=self.amount(lo, self.lang == "en"),
                hi=self.amount(hi, self.lang == "zh"),
            )
        if code == _VALUE:
            return tpl.format(v=value)
        if code == _GROWTH:
            return tpl.format(g=growth)
        if code == _POOL:
            return self.pool.get(status, status)
        return tpl.format(you=self.you[kind], stage=self.stages[stage])


def _kind_index(insts: InstitutionArrays) -> npt.NDArray[np.int64]:
    kinds = {kind: n for n, kind in enumerate(_YOU)}
    return np.array([kinds[k] for k in insts.kinds], dtype=np.int64)


def _text_keys(
    code: int,
    ents: EnterpriseArrays,
    insts: InstitutionArrays,
    e: npt.NDArray[np.int32],
    i: npt.NDArray[np.int32],
    sim: npt.NDArray[np.float32],
    chain: npt.NDArray[np.intp],
) -> npt.NDArray[np.int64]:
    """One integer per pair such that pairs with equal keys get the same text for reason ``code``.

    The keys follow the rounding of the templates exactly: a float32 value times 100 is exact in
    float64, and ``rint`` rounds half to even on that exact value as ``format`` does.
    """
    if code == _CHAIN:
        return chain.astype(np.int64)
    kind = _kind_index(insts)[i]
    if code == _TEXT:
        return kind * 1_000_000 + np.rint(sim.astype(np.float64) * 100).astype(np.int64)
    if code == _AMOUNT:  # the need (per enterprise) and the institution's kind and range
        need = np.unique(ents.need, return_inverse=True)[1].reshape(-1)
        ranges = np.stack([_kind_index(insts).astype(np.float64), insts.amount_min, insts.amount_max], axis=1)
        rng = np.unique(ranges, axis=0, return_inverse=True)[1].reshape(-1)
        return need[e].astype(np.int64) * (int(rng.max(initial=0)) + 1) + rng[i]
    if code == _VALUE:
        return np.rint(ents.value_degree[e].astype(np.float64)).astype(np.int64)
    if code == _GROWTH:
        return np.rint(ents.growth[e].astype(np.float64) * 100).astype(np.int64)
    if code == _POOL:
        status = np.unique(np.array([s or "" for s in ents.pool_status], dtype=object), return_inverse=True)[1]
        return status.reshape(-1)[e].astype(np.int64)
    return kind * 100 + ents.stage[e]  # _STAGE


def _group(keys: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """One sample position per distinct key and, for every position, the number of its key's group.

    Keys usually span a small range (a few hundred similarity or value steps), so a dense table
    replaces the sort of ``np.unique``; wide ranges fall back to it.
    """
    if keys.size == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    low = int(keys.min())
    span = int(keys.max()) - low + 1
    if span > 4 * keys.size + 4096:
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)
    offset = keys - low
    sample = np.empty(span, np.intp)
    sample[offset] = np.arange(keys.size)  # any position of a key will do: equal keys, equal texts
    present = np.zeros(span, bool)
    present[offset] = True
    number = np.cumsum(present) - 1
    return sample[present], number[offset]


def explain_pairs_langs(
    ents: EnterpriseArrays,
    insts: InstitutionArrays,
    result: FitResult,
    e_idx: npt.NDArray[np.int32],
    i_idx: npt.NDArray[np.int32],
    vocab: Vocabulary,
    policy: FitPolicy,
    langs: Sequence[Lang] = ("zh",),
    k: int = 3,
    chain_labels: Mapping[str, Text] | None = None,
) -> dict[Lang, list[list[str]]]:
    """Reasons for arbitrary enterprise-institution pairs (parallel index arrays), best first, per language.

    The reason codes are chosen once for all pairs. Each distinct text is rendered once: pairs are
    grouped by a key that determines the text (the chain, the rounded similarity and the
    institution's kind, the need and the range, ...), one pair of each group is rendered with the
    templates, and the texts are gathered back to the pairs.

    Args:
        ents: Encoded enterprises.
        insts: Encoded institutions.
        result: The fit result the pairs come from.
        e_idx: Enterprise row of each pair.
        i_idx: Institution column of each pair.
        vocab: The vocabulary used to encode (names the chains).
        policy: The fit policy used to score.
        langs: Languages of the texts.
        k: At most this many reasons per pair.
        chain_labels: Display names of chain codes; the code itself is shown otherwise.

    Returns:
        For each language, one list of texts per pair.
    """
    codes = reason_codes(ents, insts, result, e_idx, i_idx, policy, k)
    chain = np.maximum(_shared_chain(ents, insts, e_idx, i_idx), 0)
    sim = result.similarity[e_idx, i_idx]
    renderers = {lang: _Renderer(vocab, lang, chain_labels) for lang in langs}
    tables: dict[Lang, list[str]] = {lang: [] for lang in langs}  # every distinct text, once
    text_id = np.zeros(codes.shape, np.intp)  # per pair and slot: its text in the tables
    for code in np.unique(codes[codes >= 0]).tolist():
        pair, slot = np.nonzero(codes == code)
        keys = _text_keys(code, ents, insts, e_idx[pair], i_idx[pair], sim[pair], chain[pair])
        first, inverse = _group(keys)
        text_id[pair, slot] = len(next(iter(tables.values()), [])) + inverse
        sample = pair[first]  # one pair per distinct text
        e, i = e_idx[sample].tolist(), i_idx[sample].tolist()
        params = zip(
            chain[sample].tolist(),
            sim[sample].tolist(),
            ents.need[e].tolist(),
            insts.amount_min[i].tolist(),
            insts.amount_max[i].tolist(),
            ents.value_degree[e].tolist(),
            ents.growth[e].tolist(),
            ents.stage[e].tolist(),
            [ents.pool_status[x] or "" for x in e],
            strict=True,
        )
        for x, p in zip(i, params, strict=True):
            for lang in langs:
                tables[lang].append(renderers[lang].render(code, insts.kinds[x], p))
    count = (codes >= 0).sum(axis=1)  # chosen codes come first in each row
    longest = int(count.max(initial=0))
    short = np.flatnonzero(count < longest)
    cuts = list(zip(short.tolist(), count[short].tolist(), strict=True))
    out: dict[Lang, list[list[str]]] = {}
    for lang in langs:
        table = np.empty(len(tables[lang]) + 1, dtype=object)
        table[:-1] = tables[lang]
        rows: list[list[str]] = table[text_id[:, :longest]].tolist()
        for row, m in cuts:  # the few rows with fewer reasons
            rows[row] = rows[row][:m]
        out[lang] = rows
    return out


def explain_pairs(
    ents: EnterpriseArrays,
    insts: InstitutionArrays,
    result: FitResult,
    e_idx: npt.NDArray[np.int32],
    i_idx: npt.NDArray[np.int32],
    vocab: Vocabulary,
    policy: FitPolicy,
    lang: Lang = "zh",
    k: int = 3,
    chain_labels: Mapping[str, Text] | None = None,
) -> list[list[str]]:
    """Reasons for arbitrary pairs in one language (see :func:`explain_pairs_langs`)."""
    return explain_pairs_langs(ents, insts, result, e_idx, i_idx, vocab, policy, (lang,), k, chain_labels)[lang]


def explain_top_langs(
    ents: EnterpriseArrays,
    insts: InstitutionArrays,
    result: FitResult,
    top: TopLists,
    vocab: Vocabulary,
    policy: FitPolicy,
    langs: Sequence[Lang] = ("zh",),
    k: int = 3,
    chain_labels: Mapping[str, Text] | None = None,
) -> dict[Lang, list[list[list[str]]]]:
    """Reasons for every row of every list, per language: ``out[lang][i][rank - 1]`` is a list of texts."""
    rows, ranks = np.nonzero(top.enterprise >= 0)  # institution by institution, best first
    e_idx = top.enterprise[rows, ranks]
    i_idx = rows.astype(np.int32)
    texts = explain_pairs_langs(ents, insts, result, e_idx, i_idx, vocab, policy, langs, k, chain_labels)
    bounds = np.concatenate([[0], np.cumsum(top.count)]).tolist()
    return {lang: [flat[a:b] for a, b in itertools.pairwise(bounds)] for lang, flat in texts.items()}


def explain_top(
    ents: EnterpriseArrays,
    insts: InstitutionArrays,
    result: FitResult,
    top: TopLists,
    vocab: Vocabulary,
    policy: FitPolicy,
    lang: Lang = "zh",
    k: int = 3,
    chain_labels: Mapping[str, Text] | None = None,
) -> list[list[list[str]]]:
    """Reasons for every row of every institution's list: ``out[i][rank - 1]`` is a list of texts."""
    return explain_top_langs(ents, insts, result, top, vocab, policy, (lang,), k, chain_labels)[lang]
