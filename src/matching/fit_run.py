"""One scoring pass over a set of enterprises and institutions (pure: profiles in, lists out).

The shell reads profiles and criteria from the database, then::

    run = score_all(profiles, criteria, DEFAULT_FIT_POLICY)
    lists = ranked_lists(run, top_n=200, chain_labels=labels)     # push runs
    pairs = pair_scores(run, lang="zh", chain_labels=labels)       # roadshow fit scores

The TF-IDF text model is fitted on this pass's own corpus (enterprise texts and theses), so a
push run never depends on a stale model file; :func:`text_manifest` records what was fitted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
from matching.fit_reasons import explain_pairs, explain_top
from matching.i18n import Lang, Text
from matching.text import TextModel, fit_text_model


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


@dataclass(frozen=True, slots=True)
class ListRow:
    """One row of an institution's ranked list."""

    enterprise_id: str
    rank: int
    score: float
    reasons_zh: list[str]
    reasons_en: list[str]


def score_all(
    profiles: Sequence[EnterpriseProfile], criteria: Sequence[InstitutionCriteria], policy: FitPolicy
) -> ScoredRun:
    """Fit the text model on this corpus, encode both sides and score every pair."""
    vocab = build_vocabulary(profiles, criteria)
    model = fit_text_model([p.text for p in profiles] + [c.thesis for c in criteria], policy.text)
    ents = encode_enterprises(profiles, vocab, model, policy)
    insts = encode_institutions(criteria, vocab, model, policy)
    result = score_matrix(ents, insts, policy)
    return ScoredRun(tuple(profiles), tuple(criteria), vocab, model, ents, insts, result, policy)


def ranked_lists(
    run: ScoredRun, n: int, chain_labels: Mapping[str, Text] | None = None, reasons: int = 3
) -> dict[str, list[ListRow]]:
    """The best ``n`` eligible enterprises of every institution, best first, with zh and en reasons."""
    if not run.profiles or not run.criteria:
        return {c.id: [] for c in run.criteria}
    top = top_n(run.result, n)
    args = (run.ents, run.insts, run.result, top, run.vocab, run.policy)
    zh = explain_top(*args, lang="zh", k=reasons, chain_labels=chain_labels)
    en = explain_top(*args, lang="en", k=reasons, chain_labels=chain_labels)
    out: dict[str, list[ListRow]] = {}
    for i, inst_id in enumerate(run.insts.ids):
        count = int(top.count[i])
        out[inst_id] = [
            ListRow(
                enterprise_id=run.ents.ids[int(top.enterprise[i, r])],
                rank=r + 1,
                score=round(float(top.score[i, r]), 1),
                reasons_zh=zh[i][r],
                reasons_en=en[i][r],
            )
            for r in range(count)
        ]
    return out


def pair_scores(
    run: ScoredRun, lang: Lang = "zh", chain_labels: Mapping[str, Text] | None = None, reasons: int = 3
) -> dict[tuple[str, str], tuple[float, list[str]]]:
    """Score and reasons of every eligible (enterprise, institution) pair; gated-out pairs are absent."""
    if not run.profiles or not run.criteria:
        return {}
    rows, cols = np.nonzero(run.result.eligible)
    e_idx, i_idx = rows.astype(np.int32), cols.astype(np.int32)
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
    if model.vectorizer is not None:
        vocabulary = model.vectorizer.vocabulary_
        idf = model.vectorizer.idf_
        for term in sorted(vocabulary):
            digest.update(term.encode("utf-8"))
            digest.update(b"\x00")
            digest.update(np.float32(idf[vocabulary[term]]).tobytes())
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
