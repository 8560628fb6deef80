"""Text similarity between an institution's thesis and an enterprise's business scope and patents.

TF-IDF over character n-grams (2-3 by default) needs no Chinese word segmenter. Fit the model
once on the corpus (enterprise texts and theses), keep it with its policy version, and embed
texts when they change.

Usage::

    model = fit_text_model(enterprise_texts + theses, policy.text)
    ent_vectors, thesis_vectors = embed(model, enterprise_texts), embed(model, theses)
    # cosine = ent_vectors @ thesis_vectors.T (rows are L2-normalised); matching.fit does this blockwise
"""

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from matching.fit_policy import TextSettings


class TextModel:
    """A fitted TF-IDF vectoriser (None when the corpus had no n-grams) and its settings."""

    def __init__(self, vectorizer: TfidfVectorizer | None, settings: TextSettings) -> None:
        self.vectorizer = vectorizer
        self.settings = settings

    @property
    def n_features(self) -> int:
        """Size of the n-gram vocabulary."""
        return 0 if self.vectorizer is None else len(self.vectorizer.vocabulary_)


def fit_text_model(corpus: list[str], settings: TextSettings) -> TextModel:
    """Fit the TF-IDF vocabulary and IDF weights on ``corpus``.

    Args:
        corpus: All texts the model should know: enterprise texts and institution theses.
        settings: Analyzer, n-gram range and document-frequency limits. ``max_df`` applies only
            from ``max_df_min_corpus`` texts on: in a handful of texts every n-gram is "common".

    Returns:
        The fitted model (with an empty vocabulary when no text has an n-gram).
    """
    max_df = settings.max_df if len(corpus) >= settings.max_df_min_corpus else 1.0
    vectorizer = TfidfVectorizer(
        analyzer=settings.analyzer,
        ngram_range=(settings.ngram_min, settings.ngram_max),
        min_df=settings.min_df,
        max_df=max_df,
        sublinear_tf=True,
        lowercase=True,
        dtype=np.float32,
    )
    try:
        vectorizer.fit(corpus)
    except ValueError:  # empty vocabulary: no text long enough, or everything pruned
        return TextModel(None, settings)
    return TextModel(vectorizer, settings)


def embed(model: TextModel, texts: list[str]) -> sp.csr_matrix:
    """Embed texts as L2-normalised sparse TF-IDF rows (float32); an empty text is a zero row."""
    if model.vectorizer is None or not texts:
        return sp.csr_matrix((len(texts), model.n_features), dtype=np.float32)
    return sp.csr_matrix(model.vectorizer.transform(texts), dtype=np.float32)
