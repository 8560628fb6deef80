"""One scoring pass over a set of enterprises and institutions (pure: profiles in, lists out).

The shell reads profiles and criteria from the database, then::

    run = score_all(profiles, criteria, DEFAULT_FIT_POLICY)
    lists = ranked_lists(run, top_n=200, chain_labels=labels)     # push runs
    pairs = pair_scores(run, lang="zh", chain_labels=labels)       # roadshow fit scores

The TF-IDF text model is fitted on this pass's own corpus (enterprise texts and theses), so a
push run never depends on a stale model file; :func:`text_manifest` records what was fitted.
"""

from __future__ import annotations

import gc
import hashlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import msgspec
import numpy as np
import scipy
import sklearn

from matching.fit import FitResult, score_matrix, top_n
from matching.fit_inputs import (
    EnterpriseArrays,
    EnterpriseProfile,
    InstitutionArrays,
    InstitutionCriteria,
    Vocabulary,
    build_vocabulary,
    encode_enterprises,
    encode_institutions,
)
from matching.fit_policy import FitPolicy
from matching.fit_reasons import explain_pairs, explain_pairs_langs
from matching.i18n import Lang, Text
from matching.text import TextModel, fit_embed


@dataclass(frozen=True, slots=True)
class ScoredRun:
    """Everything one pass computed, kept together so lists and reasons stay consistent."""

    profiles: tuple[EnterpriseProfile, ...]
    criteria: tuple[InstitutionCriteria, ...]
    vocab: Vocabulary
    model: TextModel
    ents: EnterpriseArrays
    insts: InstitutionArrays
    result: FitResult
    policy: FitPolicy


class ListRow(msgspec.Struct, frozen=True, gc=False):
    """One row of an institution's ranked list (not tracked by the cyclic GC: it holds no cycles)."""

    enterprise_id: str
    rank: int
    score: float
    reasons_zh: list[str]
    reasons_en: list[str]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while hundreds of thousands of acyclic lists and rows are built.

    Every 700 new containers would otherwise start a collection that walks the growing heap;
    nothing built here forms a cycle, so nothing is left for the GC to find.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def default_workers() -> int:
    """Threads for the score matrix: the CPUs this process may use, at most 4."""
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


def score_all(
    profiles: Sequence[EnterpriseProfile],
    criteria: Sequence[InstitutionCriteria],
    policy: FitPolicy,
    workers: int | None = None,
    timings: dict[str, float] | None = None,
) -> ScoredRun:
    """Fit the text model on this corpus, embed it, encode both sides and score every pair.

    Args:
        profiles: The enterprises to rank.
        criteria: The institutions to rank them for.
        policy: Fit policy.
        workers: Threads over blocks of the score matrix (default :func:`default_workers`).
        timings: If given, receives the seconds spent in ``text``, ``encode`` and ``score``.

    Returns:
        Everything computed, for :func:`ranked_lists` and :func:`pair_scores`.
    """
    t0 = time.perf_counter()
    vocab = build_vocabulary(profiles, criteria)
    model, vectors = fit_embed([p.text for p in profiles] + [c.thesis for c in criteria], policy.text)
    t1 = time.perf_counter()
    ents = encode_enterprises(profiles, vocab, model, policy, vectors[: len(profiles)])
    insts = encode_institutions(criteria, vocab, model, policy, vectors[len(profiles) :])
    t2 = time.perf_counter()
    result = score_matrix(ents, insts, policy, workers=default_workers() if workers is None else workers)
    if timings is not None:
        timings.update(text=t1 - t0, encode=t2 - t1, score=time.perf_counter() - t2)
    return ScoredRun(tuple(profiles), tuple(criteria), vocab, model, ents, insts, result, policy)


def ranked_lists(
    run: ScoredRun,
    n: int,
    chain_labels: Mapping[str, Text] | None = None,
    reasons: int = 3,
    timings: dict[str, float] | None = None,
) -> dict[str, list[ListRow]]:
    """The best ``n`` eligible enterprises of every institution, best first, with zh and en reasons.

    ``timings``, if given, receives the seconds spent in ``top_n`` and ``reasons`` (texts and rows).
    """
    if not run.profiles or not run.criteria:
        return {c.id: [] for c in run.criteria}
    t0 = time.perf_counter()
    top = top_n(run.result, n)
    t1 = time.perf_counter()
    rows, ranks = np.nonzero(top.enterprise >= 0)  # institution by institution, best first
    e_idx = top.enterprise[rows, ranks]
    # round(x, 1) of a float32 score: x * 10 is exact in float64 and rint rounds half to even like round()
    scores = (np.rint(top.score[rows, ranks].astype(np.float64) * 10) / 10).tolist()
    with _gc_paused():
        texts = explain_pairs_langs(
            run.ents, run.insts, run.result, e_idx, rows.astype(np.int32), run.vocab, run.policy, ("zh", "en"),
            reasons, chain_labels,
        )  # fmt: skip
        ids = np.array(run.ents.ids, dtype=object)[e_idx].tolist()
        flat = list(map(ListRow, ids, (ranks + 1).tolist(), scores, texts["zh"], texts["en"]))
    bounds = np.concatenate([[0], np.cumsum(top.count)]).tolist()
    lists = {inst_id: flat[bounds[i] : bounds[i + 1]] for i, inst_id in enumerate(run.insts.ids)}
    if timings is not None:
        timings.update(top_n=t1 - t0, reasons=time.perf_counter() - t1)
    return lists


def pair_scores(
    run: ScoredRun, lang: Lang = "zh", chain_labels: Mapping[str, Text] | None = None, reasons: int = 3
) -> dict[tuple[str, str], tuple[float, list[str]]]:
    """Score and reasons of every eligible (enterprise, institution) pair; gated-out pairs are absent."""
    if not run.profiles or not run.criteria:
        return {}
    rows, cols = np.nonzero(run.result.eligible)
    e_idx, i_idx = rows.astype(np.int32), cols.astype(np.int32)
    with _gc_paused():
        texts = explain_pairs(
            run.ents, run.insts, run.result, e_idx, i_idx, run.vocab, run.policy, lang, reasons, chain_labels
        )
    scores = run.result.scores[e_idx, i_idx].tolist()
    return {
        (run.ents.ids[e], run.insts.ids[i]): (round(float(s), 1), t)
        for e, i, s, t in zip(e_idx.tolist(), i_idx.tolist(), scores, texts, strict=True)
    }


def text_manifest(model: TextModel) -> dict[str, object]:
    """Describe the fitted text model: library versions, settings, vocabulary size and its sha256."""
    digest = hashlib.sha256()
    terms = model.terms()
    idf = model.idf.astype(np.float32)
    for column in sorted(range(len(terms)), key=terms.__getitem__):  # by term, as the manifest always was
        digest.update(terms[column].encode("utf-8"))
        digest.update(b"\x00")
        digest.update(idf[column].tobytes())
    s = model.settings
    return {
        "kind": "tfidf",
        "fitted": "per_run",
        "analyzer": s.analyzer,
        "ngram_range": [s.ngram_min, s.ngram_max],
        "vocabulary_size": model.n_features,
        "sha256": digest.hexdigest(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
