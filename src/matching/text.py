"""Text similarity between an institution's thesis and an enterprise's business scope and patents.

TF-IDF over character n-grams (2-3 by default) needs no Chinese word segmenter. A push run fits
the model on its own corpus (enterprise texts and theses) and embeds that corpus in the same pass.

The n-grams are counted with NumPy instead of scikit-learn's per-n-gram Python loop: every text
becomes an array of code points, every n-gram one left-aligned 64-bit integer (21 bits per
character, so the integers sort like the strings), and the vocabulary is the sorted set of those
integers. The counts are exactly those of scikit-learn's ``CountVectorizer(analyzer=...,
ngram_range=..., lowercase=True, min_df=..., max_df=...)`` (same whitespace normalisation, same
``char_wb`` word padding, same sorted column order), and the weighting is scikit-learn's
``TfidfTransformer`` (smooth IDF, sublinear TF, L2 rows), so the vectors equal
``TfidfVectorizer``'s float for float; ``tests/matching/test_fit.py`` checks it on random texts.
Only the vocabulary is kept as integers rather than a dict of strings.

Usage::

    model, vectors = fit_embed(enterprise_texts + theses, policy.text)   # one pass over the corpus
    ent_vectors, thesis_vectors = vectors[:n_ent], vectors[n_ent:]
    later = embed(model, more_texts)                                     # same vocabulary and IDF
    # cosine = ent_vectors @ thesis_vectors.T (rows are L2-normalised); matching.fit does this blockwise
"""

import re
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from matching.fit_policy import TextSettings

#: Bits per character in an n-gram code (code points are below 0x110000 < 2**21).
_BITS: Final = 21
_WHITESPACE_RUNS: Final = re.compile(r"\s\s+")  # scikit-learn's normalisation before char n-grams
_SEPARATOR: Final = "\x00"  # not whitespace, unchanged by lower(): texts can be normalised joined
U64 = npt.NDArray[np.uint64]


class TextModel:
    """A fitted vocabulary (sorted n-gram codes) with its TF-IDF weights, and the settings used."""

    def __init__(self, codes: U64, tfidf: TfidfTransformer | None, settings: TextSettings) -> None:
        self.codes = codes
        self.tfidf = tfidf
        self.settings = settings

    @property
    def n_features(self) -> int:
        """Size of the n-gram vocabulary."""
        return int(self.codes.size)

    @property
    def idf(self) -> npt.NDArray[np.float64]:
        """IDF weight of each vocabulary entry (empty when the vocabulary is)."""
        return np.zeros(0) if self.tfidf is None else np.asarray(self.tfidf.idf_, dtype=np.float64)

    def terms(self) -> list[str]:
        """The vocabulary as strings, in column order."""
        return decode_ngrams(self.codes, self.settings.ngram_max)


def decode_ngrams(codes: U64, max_n: int) -> list[str]:
    """The texts of n-gram codes (code points + 1, 21 bits per character, left-aligned)."""
    shifts = [_BITS * (max_n - 1 - k) for k in range(max_n)]  # first character in the highest bits
    groups = np.stack([(codes >> np.uint64(b)) & np.uint64((1 << _BITS) - 1) for b in shifts], axis=1)
    points = np.maximum(groups.astype(np.int64) - 1, 0)  # an absent character becomes NUL: dropped below
    texts: list[str] = np.ascontiguousarray(points.astype(np.uint32)).view(f"<U{max_n}").reshape(-1).tolist()
    return texts


def _segments(texts: Sequence[str], analyzer: str) -> tuple[list[str], npt.NDArray[np.intp]]:
    """The strings n-grams are taken from and the text each belongs to.

    ``char``: the lower-cased text with runs of whitespace collapsed to one space. ``char_wb``:
    every whitespace-separated word of it, padded with a space on both sides.
    """
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) == max(len(texts) - 1, 0):  # one pass over all texts, split back after
        normalised = _WHITESPACE_RUNS.sub(" ", joined.lower()).split(_SEPARATOR) if texts else []
    else:  # a text contains the separator itself
        normalised = [_WHITESPACE_RUNS.sub(" ", t.lower()) for t in texts]
    if analyzer == "char":
        return normalised, np.arange(len(texts), dtype=np.intp)
    words = [w.split() for w in normalised]
    owner = np.repeat(np.arange(len(texts), dtype=np.intp), [len(w) for w in words])
    return [f" {w} " for ws in words for w in ws], owner


def _code_points(segments: list[str]) -> npt.NDArray[np.uint32]:
    return np.frombuffer("".join(segments).encode("utf-32-le"), dtype=np.uint32)


def _ngram_codes(
    chars: U64, bits: int, lengths: npt.NDArray[np.intp], owner: npt.NDArray[np.intp], settings: TextSettings
) -> tuple[U64, npt.NDArray[np.intp]]:
    """Every n-gram occurrence as (code, text index): ``bits`` per character, characters numbered from 1.

    ``chars`` holds the segments back to back, ``lengths`` their lengths and ``owner`` their texts.
    Characters are numbered from 1 and codes are left-aligned (a bigram ends in a zero group), so
    numeric order is the strings' order and codes of different lengths never collide.
    """
    room = np.arange(chars.size, 0, -1, dtype=np.intp)  # characters from each position to its segment's end
    room -= np.repeat(chars.size - np.cumsum(lengths), lengths)
    doc_of_pos = np.repeat(owner, lengths)
    codes: list[U64] = []
    docs: list[npt.NDArray[np.intp]] = []
    for n in range(settings.ngram_min, settings.ngram_max + 1):
        if chars.size < n:
            break
        width = chars.size - n + 1
        code = chars[:width].copy()
        for k in range(1, n):
            code <<= np.uint64(bits)
            code |= chars[k : k + width]
        code <<= np.uint64(bits * (settings.ngram_max - n))  # left-aligned: codes sort like the strings
        keep = room[:width] >= n  # the n-gram ends inside its segment
        codes.append(code[keep])
        docs.append(doc_of_pos[:width][keep])
    if not codes:
        return np.zeros(0, np.uint64), np.zeros(0, np.intp)
    return np.concatenate(codes), np.concatenate(docs)


def _text_codes(texts: Sequence[str], settings: TextSettings) -> tuple[U64, npt.NDArray[np.intp]]:
    """N-gram occurrences of ``texts`` with code points as characters (the vocabulary's code space)."""
    segments, owner = _segments(texts, settings.analyzer)
    lengths = np.fromiter((len(s) for s in segments), dtype=np.intp, count=len(segments))
    chars = _code_points(segments).astype(np.uint64) + np.uint64(1)
    return _ngram_codes(chars, _BITS, lengths, owner, settings)


def _count_matrix(docs: npt.NDArray[np.intp], cols: npt.NDArray[np.intp], n_docs: int, n_cols: int) -> sp.csr_matrix:
    """Occurrence counts as a canonical CSR matrix (rows = texts; duplicates summed, columns sorted)."""
    ones = np.ones(docs.size, np.float32)
    counts = sp.csr_matrix((ones, (docs, cols)), shape=(n_docs, n_cols))
    counts.sum_duplicates()
    return counts


def fit_embed(corpus: Sequence[str], settings: TextSettings) -> tuple[TextModel, sp.csr_matrix]:
    """Fit the vocabulary and IDF weights on ``corpus`` and embed the corpus itself.

    Characters are first renumbered densely (a corpus uses a few thousand distinct characters), so
    an n-gram code and its text index fit in one 64-bit key; one sort of those keys gives the
    counts, the vocabulary and the document frequencies together.

    Args:
        corpus: All texts the model should know: enterprise texts and institution theses.
        settings: Analyzer, n-gram range and document-frequency limits. ``max_df`` applies only
            from ``max_df_min_corpus`` texts on: in a handful of texts every n-gram is "common".

    Returns:
        The fitted model (with an empty vocabulary when no text has an n-gram) and the corpus as
        L2-normalised float32 TF-IDF rows, in corpus order.
    """
    n = len(corpus)
    segments, owner = _segments(corpus, settings.analyzer)
    lengths = np.fromiter((len(s) for s in segments), dtype=np.intp, count=len(segments))
    points = _code_points(segments)
    alphabet = np.flatnonzero(np.bincount(points)).astype(np.uint32)  # sorted: numbering keeps n-gram order
    bits = max(1, int(alphabet.size).bit_length())
    dense = np.zeros(int(alphabet[-1]) + 1 if alphabet.size else 1, np.uint64)
    dense[alphabet] = np.arange(1, alphabet.size + 1, dtype=np.uint64)
    codes, docs = _ngram_codes(dense[points], bits, lengths, owner, settings)
    doc_bits = max(1, n.bit_length())
    if codes.size and bits * settings.ngram_max + doc_bits <= 64:
        by_column, vocab = _count_by_sort(codes, docs, n, doc_bits)
    else:  # an exotic corpus (tens of thousands of distinct characters): unique with an inverse
        vocab, cols = np.unique(codes, return_inverse=True)
        by_column = _count_matrix(docs, cols.reshape(-1).astype(np.intp), n, vocab.size).tocsc()
    df = np.diff(by_column.indptr)  # texts containing each n-gram
    max_df = settings.max_df if n >= settings.max_df_min_corpus else 1.0
    keep = (df >= settings.min_df) & (df <= max_df * n)
    if not keep.any():  # empty vocabulary: no text long enough, or everything pruned
        model = TextModel(np.zeros(0, np.uint64), None, settings)
        return model, sp.csr_matrix((n, 0), dtype=np.float32)
    if not keep.all():
        by_column = by_column[:, np.flatnonzero(keep)]
        vocab = vocab[keep]
    counts = by_column.tocsr()
    vocab = _to_code_points(vocab, bits, alphabet, settings.ngram_max)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    return TextModel(vocab, tfidf, settings), _weigh(tfidf, counts)


def _count_by_sort(codes: U64, docs: npt.NDArray[np.intp], n_docs: int, doc_bits: int) -> tuple[sp.csc_matrix, U64]:
    """Counts (texts x sorted distinct codes, by column) and those codes, from one sort of (code, text) keys."""
    shift = np.uint64(doc_bits)
    key = codes << shift
    key |= docs.astype(np.uint64)
    key.sort()
    first = np.empty(key.size, bool)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, key.size)).astype(np.float32)
    entries = key[starts]
    entry_code, entry_doc = entries >> shift, (entries & np.uint64((1 << doc_bits) - 1)).astype(np.intp)
    new_code = np.empty(entries.size, bool)
    new_code[0] = True
    np.not_equal(entry_code[1:], entry_code[:-1], out=new_code[1:])
    col_starts = np.flatnonzero(new_code)
    indptr = np.append(col_starts, entries.size)
    by_column = sp.csc_matrix((counts, entry_doc, indptr), shape=(n_docs, col_starts.size))
    return by_column, entry_code[col_starts]


def _to_code_points(codes: U64, bits: int, alphabet: npt.NDArray[np.uint32], max_n: int) -> U64:
    """Re-encode densely numbered n-gram codes with code points (21 bits per character)."""
    out = np.zeros(codes.size, np.uint64)
    mask = np.uint64((1 << bits) - 1)
    lookup = np.concatenate([[0], alphabet.astype(np.uint64) + 1]).astype(np.uint64)
    for k in range(max_n):
        group = (codes >> np.uint64(bits * k)) & mask
        out |= lookup[group] << np.uint64(_BITS * k)
    return out


def _weigh(tfidf: TfidfTransformer, counts: sp.csr_matrix) -> sp.csr_matrix:
    return sp.csr_matrix(tfidf.transform(counts), dtype=np.float32)


def fit_text_model(corpus: Sequence[str], settings: TextSettings) -> TextModel:
    """Fit the TF-IDF vocabulary and IDF weights on ``corpus`` (see :func:`fit_embed`)."""
    return fit_embed(corpus, settings)[0]


def embed(model: TextModel, texts: Sequence[str]) -> sp.csr_matrix:
    """Embed texts as L2-normalised sparse TF-IDF rows (float32); n-grams outside the vocabulary count for nothing."""
    if model.tfidf is None or not texts:
        return sp.csr_matrix((len(texts), model.n_features), dtype=np.float32)
    codes, docs = _text_codes(texts, model.settings)
    cols = np.searchsorted(model.codes, codes)
    cols[cols == model.codes.size] = 0
    known = model.codes[cols] == codes
    counts = _count_matrix(docs[known], cols[known], len(texts), model.n_features)
    return _weigh(model.tfidf, counts)
