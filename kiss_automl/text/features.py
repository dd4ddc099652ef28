"""Text columns as model features, the way each kind of model uses them best.

Two outputs, chosen per family (`Family.text_input`), both measured on the text benchmark
(benchmarks/TEXT.md):

- ``sparse``, for linear models: the representation itself (TF-IDF of word 1-2-grams, or
  sentence embeddings) beside the other columns, plus a few text statistics.
- ``score``, for trees and the MLP: a text-only model's out-of-fold predictions (one column
  per class past two, one for regression), the TF-IDF of the 32 most frequent n-grams, plus
  the same statistics. Trees split poorly on 20,000 sparse columns; one well-calibrated
  score column carries the text's signal at a cost of milliseconds, and the frequent
  n-grams let a tree cross a word with the other columns. The score is out-of-fold on the
  training rows, so the trees see on them what they will see at predict time, not an
  overfitted echo of the target.

The text-only model is multinomial naive Bayes on TF-IDF (as good as logistic regression
here as a feature, at a few hundredths of its cost), ridge for regression, logistic
regression on embeddings. Vectorizing and the out-of-fold scores depend only on the rows'
text and targets, so they are computed once per set of rows in a fit and reused by every
candidate that sees the same rows (a process-wide cache keyed by content hashes): the first
candidate on a fold pays for them, measured, and the refit pays again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from . import EMBED_PREFIX, TFIDF

#: Vocabulary cap: word 1-2-grams seen in at least two rows, the most frequent ones.
MAX_FEATURES = 20_000
#: The most frequent n-grams (lowest idf) given to the trees as columns of their own beside the
#: score: a tree can then cross a word with the other columns ("descent" with the altitude),
#: which a score summing every word cannot offer (benchmarks/TEXT_DESIGN.md).
#: kiss-automl's 3-seed mean test accuracy without them, with 32, 64 and 128: bird_strikes
#: 0.7052, 0.7211, 0.7135, 0.7157 (all but the first judging the text on a tree family:
#: search.py), at 119 J with 32 and 179 J with 64; fine_foods 0.8240, 0.8227, 0.8243,
#: 0.8224, at 27, 40, 57 and 71 J. 32: the gain for the least energy.
TOP_TERMS = 32
#: Folds of the out-of-fold score.
SCORE_FOLDS = 5
#: Weight of the unit-norm TF-IDF or embedding rows in the sparse output: the linear model's
#: default regularization suits standardized columns and flattens unit-norm rows (logistic
#: regression on TF-IDF with C=1: 0.789 accuracy on fine_foods, with the rows x2, i.e. C=4
#: on them: 0.806, 3-fold CV; bird_strikes 0.569 and 0.571). On the test splits of seeds 0-2
#: (benchmarks/TEXT_DESIGN.md) it is mixed: fine_foods +2.2 points, bird_strikes -1.5.
SPARSE_WEIGHT = 2.0
_CACHE_ENTRIES = 64
_cache: OrderedDict = OrderedDict()


def digest(values) -> str:
    """A content hash of a column of strings or an array (order matters, index does not)."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        data = np.ascontiguousarray(values).tobytes() + str(values.dtype).encode()
    else:
        data = pd.util.hash_pandas_object(pd.Series(values, dtype=object), index=False).to_numpy().tobytes()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _cached(key, compute):
    """compute(), remembered under `key` for the rest of the process (a bounded LRU)."""
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    value = compute()
    _cache[key] = value
    if len(_cache) > _CACHE_ENTRIES:
        _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    _cache.clear()


def text_stats(texts: pd.Series) -> np.ndarray:
    """Length, words, digit share, links and upper-case share of each value (float32)."""
    chars = texts.str.len().to_numpy(dtype=np.float64)
    words = texts.str.split().str.len().fillna(0).to_numpy(dtype=np.float64)
    digits = texts.str.count(r"\d").to_numpy(dtype=np.float64)
    links = texts.str.count(r"https?://|www\.").to_numpy(dtype=np.float64)
    upper = texts.str.count(r"[A-Z]").to_numpy(dtype=np.float64)
    safe = np.maximum(chars, 1.0)
    return np.column_stack([np.log1p(chars), np.log1p(words), digits / safe, np.log1p(links),
                            upper / safe]).astype(np.float32)


class TextFeatures(TransformerMixin, BaseEstimator):
    """The text columns of a typed frame (strings, "" for missing) as numeric features.

    Parameters
    ----------
    columns : names of the text columns.
    view : ``"tfidf"`` or ``"embed:<model>"``.
    output : ``"sparse"`` (the representation, for linear models) or ``"score"``
        (out-of-fold text-model predictions and the frequent n-grams, for trees and the MLP).
    task : ``"binary"``, ``"multiclass"`` or ``"regression"``.
    encoder : the loaded sentence encoder of an embed view (:mod:`kiss_automl.text.encoder`);
        never saved with the model, attached again when the model is loaded.
    """

    def __init__(self, columns: Sequence[str] = (), view: str = TFIDF, output: str = "score",
                 task: str = "binary", random_state: int = 0, encoder=None):
        self.columns = columns
        self.view = view
        self.output = output
        self.task = task
        self.random_state = random_state
        self.encoder = encoder

    def __getstate__(self):
        state = dict(self.__dict__)
        state["encoder"] = None  # the encoder is loaded from its folder, never pickled
        return state

    # ---- fit ---------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, y=None) -> "TextFeatures":
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: pd.DataFrame, y=None):
        if self.output == "score" and y is None:
            raise ValueError("TextFeatures(output='score') needs the target to fit")
        self.columns_ = [str(c) for c in self.columns]
        self.vectorizers_, self.scorers_, self.digests_, self.top_terms_ = {}, {}, {}, {}
        if self.view.startswith(EMBED_PREFIX):
            self.encoder_spec_ = self._encoder().spec.as_dict()
        y_digest = digest(np.asarray(y)) if y is not None else ""
        parts = []
        for name in self.columns_:
            texts = X[name]
            key = digest(texts)
            self.digests_[name] = key
            represented = self._represent_fit(name, texts, key)
            if self.output == "score":
                scorer, oof = _cached(("score", self.view, self.task, key, y_digest, self.random_state),
                                      lambda: self._out_of_fold(represented, np.asarray(y)))
                self.scorers_[name] = scorer
                parts.append(oof)
                parts.append(self._top_terms(name, represented))
            else:
                parts.append(represented * SPARSE_WEIGHT)
            parts.append(text_stats(texts))
        self.n_features_out_ = sum(p.shape[1] for p in parts)
        return _stack(parts)

    def _represent_fit(self, name: str, texts: pd.Series, key: str):
        if self.view.startswith(EMBED_PREFIX):
            return self._encoder().embed(texts)
        vectorizer, matrix = _cached(("tfidf", key), lambda: _fit_tfidf(texts))
        self.vectorizers_[name] = vectorizer
        return matrix

    def _out_of_fold(self, represented, y: np.ndarray):
        """The text-only model fitted on all rows, and its out-of-fold predictions."""
        from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict

        scorer = self._scorer()
        classify = self.task != "regression"
        stratified = classify and np.bincount(y).min() >= SCORE_FOLDS
        splitter = (StratifiedKFold if stratified else KFold)(SCORE_FOLDS, shuffle=True,
                                                              random_state=self.random_state)
        if classify:
            oof = cross_val_predict(scorer, represented, y, cv=splitter, method="predict_proba")
        else:
            oof = cross_val_predict(scorer, represented, y, cv=splitter)
        scorer.fit(represented, y)
        return scorer, self._score_columns(oof)

    def _top_terms(self, name: str, represented) -> np.ndarray:
        """The TF-IDF of the column's most frequent n-grams, dense; none for embeddings."""
        vectorizer = self.vectorizers_.get(name)
        if name not in self.top_terms_:
            idf = getattr(vectorizer, "idf_", None)
            self.top_terms_[name] = np.argsort(idf, kind="stable")[:TOP_TERMS] if idf is not None else \
                np.zeros(0, dtype=np.int64)
        columns = self.top_terms_[name]
        if not len(columns):
            return np.zeros((represented.shape[0], 0), dtype=np.float32)
        return represented[:, columns].toarray().astype(np.float32)

    def _scorer(self):
        embedded = self.view.startswith(EMBED_PREFIX)
        if self.task == "regression":
            from sklearn.linear_model import Ridge

            return Ridge(alpha=1.0)
        if embedded:
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(C=1.0, max_iter=300)
        from sklearn.naive_bayes import MultinomialNB

        return MultinomialNB(alpha=0.1)

    def _score_columns(self, predicted: np.ndarray) -> np.ndarray:
        predicted = np.asarray(predicted, dtype=np.float32)
        if predicted.ndim == 1:
            return predicted[:, None]
        return predicted[:, 1:2] if predicted.shape[1] == 2 else predicted

    # ---- transform ---------------------------------------------------------------------
    def transform(self, X: pd.DataFrame):
        check_is_fitted(self, "columns_")
        parts = []
        for name in self.columns_:
            texts = X[name]
            represented = self._represent(name, texts)
            if self.output == "score":
                scorer = self.scorers_[name]
                parts.append(self._score_columns(scorer.predict_proba(represented) if self.task != "regression"
                                                 else scorer.predict(represented)))
                parts.append(self._top_terms(name, represented))
            else:
                parts.append(represented * SPARSE_WEIGHT)
            parts.append(text_stats(texts))
        return _stack(parts)

    def _represent(self, name: str, texts: pd.Series):
        if self.view.startswith(EMBED_PREFIX):
            return self._encoder().embed(texts)
        vectorizer = self.vectorizers_[name]
        return _cached(("tfidf-apply", self.digests_[name], digest(texts)), lambda: vectorizer.transform(texts))

    def _encoder(self):
        if self.encoder is None and getattr(self, "encoder_spec_", None) is not None:
            from .encoder import load_matching

            self.encoder = load_matching(self.encoder_spec_)  # unpickled: the same weights, loaded again
        if self.encoder is None:
            raise ValueError(f"The text view {self.view!r} needs its sentence encoder, which is not loaded")
        return self.encoder

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "columns_")
        return np.array([f"text{i}" for i in range(self.n_features_out_)], dtype=object)


class CompactTfidf(TfidfVectorizer):
    """TfidfVectorizer whose vocabulary is saved as one string: skops writes a dict entry by
    entry, and 20,000 n-grams then took 28.9 MB (a blend of four candidates) instead of the
    ~1 MB they pickle to. Terms are words joined by spaces, never a newline."""

    def __getstate__(self):
        state = super().__getstate__()
        vocabulary = state.pop("vocabulary_", None)
        if vocabulary is not None:
            state["vocabulary_terms_"] = "\n".join(sorted(vocabulary, key=vocabulary.get))
        return state

    def __setstate__(self, state):
        terms = state.pop("vocabulary_terms_", None)
        if terms is not None:
            state["vocabulary_"] = {t: i for i, t in enumerate(terms.split("\n"))} if terms else {}
        super().__setstate__(state)


def _fit_tfidf(texts: pd.Series):
    vectorizer = CompactTfidf(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=MAX_FEATURES,
                                 dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform(texts)
        _drop_pruned_terms(vectorizer)
    except ValueError:  # no word seen twice (or no word at all): single words, kept once
        vectorizer = CompactTfidf(sublinear_tf=True, max_features=MAX_FEATURES, dtype=np.float32,
                                     token_pattern=r"(?u)\b\w+\b")
        try:
            matrix = vectorizer.fit_transform(texts)
            _drop_pruned_terms(vectorizer)
        except ValueError:  # nothing that is a word: an empty vocabulary, all-zero features
            vectorizer = _EmptyVocabulary()
            matrix = vectorizer.transform(texts)
    return vectorizer, matrix


def _drop_pruned_terms(vectorizer) -> None:
    """Older scikit-learn keeps every pruned n-gram (`stop_words_`): megabytes, never read."""
    if hasattr(vectorizer, "stop_words_"):
        del vectorizer.stop_words_


class _EmptyVocabulary(BaseEstimator):
    """A vectorizer for a column without words: one all-zero feature."""

    def transform(self, texts):
        import scipy.sparse as sp

        return sp.csr_matrix((len(texts), 1), dtype=np.float32)


def _stack(parts: list):
    import scipy.sparse as sp

    if any(sp.issparse(p) for p in parts):
        return sp.hstack([sp.csr_matrix(p) for p in parts], format="csr", dtype=np.float32)
    return np.hstack(parts).astype(np.float32, copy=False)
