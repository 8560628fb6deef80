"""Text similarity between an institution's thesis and an enterprise's business scope and patents.

TF-IDF over character n-grams (2-3 by default) needs no Chinese word segmenter. Fit the model
once on the corpus (enterprise texts and theses), keep it with its policy version, and embed
texts when they change; :func:`similarity` then gives every thesis-enterprise cosine at once.

Usage::

    model = fit_text_model(enterprise_texts + theses, policy.text)
    sim = similarity(embed(model, theses), embed(model, enterprise_texts))   # (I, E) float32
"""

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from matching.fit_policy import TextSettings

Matrix = npt.NDArray[np.float32]


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
    if model.vectorizer is None:
        return sp.csr_matrix((len(texts), 0), dtype=np.float32)
    return sp.csr_matrix(model.vectorizer.transform(texts), dtype=np.float32)


def similarity(theses: sp.csr_matrix, enterprises: sp.csr_matrix) -> Matrix:
    """Cosine similarity of every thesis with every enterprise text.

    Both inputs are L2-normalised rows over the same vocabulary, so the cosine is the dot
    product. The product is taken over the theses' vocabulary only: n-grams no thesis contains
    add nothing to any cosine, and dropping them keeps the enterprise side small.

    Returns:
        A dense C-ordered ``(n_institutions, n_enterprises)`` float32 matrix in [0, 1].
    """
    used = np.flatnonzero(np.diff(theses.tocsc().indptr))
    left = theses[:, used]
    right = enterprises[:, used].T.tocsr()
    out = np.asarray((left @ right).toarray(), dtype=np.float32)
    return out
