"""Texts on the example side: what the examples' words say about their labels.

For the text features of a space, a ``TextReader`` turns each case's texts (normalised and
case-folded, the form the condition language matches) into tf-idf weights of its words and
word pairs and of the character 2- to 5-grams inside its words, and fits a logistic
regression on the training examples. Why these choices:

- words and pairs carry the vocabulary ("subscribe", "my channel"); character n-grams
  carry spelling variants and fragments a word tokeniser misses ("subscr1be", "http://",
  "youtube.com/watch"), which spam is full of;
- tf-idf with sublinear term frequency: a word repeated ten times is not ten times the
  evidence, and words in every text ("the") say nothing;
- a logistic regression is the model made for sparse, wide, few-row data: with 100
  examples and 30,000 columns it does not overfit the way trees do (L2, C = 10), fits in
  tens of milliseconds, and its coefficients name the words that pushed an answer.

Two readings of the same texts are weighed per space (``REPRESENTATIONS``), and the one
whose out-of-fold log loss on the training examples is lower is kept (``TextReader.choose``):

- *pairs*: words and word pairs, sublinear tf-idf (as above);
- *marked*: single words, term presence (0/1) times idf, and every link marked by a token of
  its own (``LINK_TOKEN``), and every digit read as 0 ("555-0192" and "555-7731" read
  alike, so do "$500" and "$100"; a link's host still counts through its words and
  character n-grams). Short texts hold few repeated words, so presence loses little and
  pairs add columns the few examples cannot fill.

Why choose and not replace: the evidence for *marked* comes from one text data set (Snorkel's
spam split, bench/spam.py: out-of-fold log loss on the 100 dev comments, mean of 8 fold
seeds, examples alone 0.409 → 0.375, read with the pool 0.172 → 0.159); a space whose texts
are long or whose meaning sits in word order may read better with pairs, and its own
examples say so. The choice costs one more out-of-fold pass of the regression.

Its probabilities enter the learner as one more source of pseudo-counts, with a mass chosen
by held-out log loss like the other parts; for that the training rows get out-of-fold
probabilities (``out_of_fold``), never ones fitted on themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from mola.engine.learning.scoring import log_loss

MIN_TEXT_EXAMPLES = 6  # fewer training examples, or one label only: no text reading
FOLDS = 5
STRENGTH = 10.0  # the regression's C
MAX_CHAR_FEATURES = 50_000
MAX_TAUGHT_ROWS = 5_000  # training rows kept to name a word's teachers
WORD_PATTERN = r"(?u)\b\w+\b"  # single letters and digits count ("u", "2")


LINK_TOKEN = "urltoken"  # a word of its own (``\w``), shown as "(a link)" in explanations
_LINK = re.compile(r"https?://\S+|www\.\S+|\S+\.(?:com|net|org|ly)\b\S*")
_DIGIT = re.compile(r"\d")
SHOWN_TOKENS = {LINK_TOKEN: "(a link)"}


@dataclass(frozen=True)
class Representation:
    """How a reader turns texts into columns (module docstring)."""

    name: str
    word_ngrams: tuple[int, int]
    presence: bool  # 0/1 term presence instead of sublinear term frequency
    marked: bool  # links marked by LINK_TOKEN, digits read as 0


REPRESENTATIONS = (
    Representation("pairs", (1, 2), presence=False, marked=False),
    Representation("marked", (1, 1), presence=True, marked=True),
)


def mark_links_and_digits(text: str) -> str:
    """``text`` with a LINK_TOKEN before every link and its digits as 0."""
    return _DIGIT.sub("0", _LINK.sub(lambda link: f" {LINK_TOKEN} {link.group(0)} ", text))


def _vectorisers(
    representation: Representation = REPRESENTATIONS[0],
) -> tuple[TfidfVectorizer, TfidfVectorizer]:
    common: dict[str, Any] = {
        "sublinear_tf": True,
        "binary": representation.presence,
        "lowercase": False,
        "preprocessor": mark_links_and_digits if representation.marked else None,
    }
    words = TfidfVectorizer(
        ngram_range=representation.word_ngrams, token_pattern=WORD_PATTERN, **common
    )
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), max_features=MAX_CHAR_FEATURES, **common
    )
    return words, chars


@dataclass
class _Fitted:
    words: TfidfVectorizer
    chars: TfidfVectorizer
    model: LogisticRegression


TEXT_MASSES = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


class TextReader:
    """The words of a space's text features, read by a logistic regression. ``mass`` is its
    weight in the pseudo-counts (chosen by held-out log loss in ``training._choose``)."""

    def __init__(self, features: list[str], n_labels: int) -> None:
        self.features = list(features)
        self.n_labels = n_labels
        self.fitted: _Fitted | None = None
        self.representation = REPRESENTATIONS[0]  # ``choose`` picks it
        self.mass = 0.0
        # (words × training rows, their labels, their authors), for ``teachers``
        self.taught: tuple[Any, np.ndarray, list[str]] | None = None

    def table_probabilities(self, table: Any) -> np.ndarray:
        return self.probabilities(self.documents(table))

    def documents(self, table: Any) -> list[str]:
        """One document per row: its folded texts, joined (a line per text feature)."""
        columns = [table.folded(name) for name in self.features]
        if len(columns) == 1:
            return list(columns[0])
        return ["\n".join(texts) for texts in zip(*columns, strict=True)]

    @staticmethod
    def usable(labels: np.ndarray) -> bool:
        return len(labels) >= MIN_TEXT_EXAMPLES and len(np.unique(labels)) >= 2

    def fit(
        self,
        documents: list[str],
        labels: np.ndarray,
        weights: np.ndarray | None,
        authors: list[str] | None = None,
    ) -> TextReader:
        """Fit on the training examples; ``authors`` (one per document) are kept with the
        words each taught, to name the teachers behind a word in an explanation."""
        self.fitted = _fit(documents, labels, weights, self.representation)
        if authors is not None:
            keep = slice(0, MAX_TAUGHT_ROWS)
            taught = self.fitted.words.transform(documents[keep])
            self.taught = (taught.T.tocsr(), np.asarray(labels[keep]), list(authors[keep]))
        return self

    def teachers(self, word_column: int, label: int, limit: int = 3) -> list[str]:
        """Who taught ``label`` with texts holding the word of ``word_column``, most
        examples first."""
        if self.taught is None:
            return []
        by_word, labels, authors = self.taught
        rows = by_word.indices[by_word.indptr[word_column] : by_word.indptr[word_column + 1]]
        counts: dict[str, int] = {}
        for row in rows[labels[rows] == label].tolist():
            counts[authors[row]] = counts.get(authors[row], 0) + 1
        return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]

    def probabilities(self, documents: list[str]) -> np.ndarray:
        """(rows, labels); uniform when nothing was fitted."""
        if self.fitted is None:
            return np.full((len(documents), self.n_labels), 1.0 / self.n_labels)
        return _predict(self.fitted, documents, self.n_labels)

    def choose(
        self, documents: list[str], labels: np.ndarray, weights: np.ndarray | None, seed: int
    ) -> np.ndarray:
        """Keep the representation whose out-of-fold probabilities have the lowest log loss
        (the first on a tie, as when too few examples make folds); return those."""
        best: tuple[float, np.ndarray] | None = None
        for representation in REPRESENTATIONS:
            self.representation = representation
            probabilities = self.out_of_fold(documents, labels, weights, seed)
            loss = log_loss(probabilities, labels, weights)
            if best is None or loss < best[0]:
                best, chosen = (loss, probabilities), representation
        self.representation = chosen
        return best[1]

    def out_of_fold(
        self, documents: list[str], labels: np.ndarray, weights: np.ndarray | None, seed: int
    ) -> np.ndarray:
        """Each training row's probabilities from a fit (of ``representation``) that did
        not see it."""
        result = np.full((len(documents), self.n_labels), 1.0 / self.n_labels)
        counts = np.bincount(labels, minlength=self.n_labels)
        folds = int(min(FOLDS, counts[counts > 0].min())) if len(counts[counts > 0]) >= 2 else 0
        if folds < 2:
            return result
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        docs = np.array(documents, dtype=object)
        for train, held in splitter.split(docs, labels):
            if len(np.unique(labels[train])) < 2:
                continue
            fitted = _fit(
                list(docs[train]),
                labels[train],
                None if weights is None else weights[train],
                self.representation,
            )
            result[held] = _predict(fitted, list(docs[held]), self.n_labels)
        return result

    def pushing_words(self, document: str, label: int, limit: int = 5) -> list[dict[str, Any]]:
        """The words (and word pairs) of ``document`` that pushed it most towards ``label``:
        their tf-idf weight times how much more the regression counts them for ``label``
        than for the other labels on average; largest first, positive only, each with the
        teachers whose examples of ``label`` hold it."""
        if self.fitted is None:
            return []
        fitted = self.fitted
        row = fitted.words.transform([document])
        coefficients = _word_coefficients(fitted, self.n_labels)
        if coefficients is None:
            return []
        push = coefficients[label] - np.delete(coefficients, label, axis=0).mean(axis=0)
        columns, values = row.indices, row.data
        scores = values * push[columns]
        order = np.argsort(-scores)[:limit]
        names = fitted.words.get_feature_names_out()
        return [
            {
                "word": SHOWN_TOKENS.get(str(names[columns[i]]), str(names[columns[i]])),
                "weight": round(float(scores[i]), 4),
                "teachers": self.teachers(int(columns[i]), label),
            }
            for i in order
            if scores[i] > 0
        ]


def _fit(
    documents: list[str],
    labels: np.ndarray,
    weights: np.ndarray | None,
    representation: Representation,
) -> _Fitted:
    words, chars = _vectorisers(representation)
    matrix = hstack([words.fit_transform(documents), chars.fit_transform(documents)]).tocsr()
    model = LogisticRegression(C=STRENGTH, max_iter=1000)
    model.fit(matrix, labels, sample_weight=weights)
    return _Fitted(words, chars, model)


def _predict(fitted: _Fitted, documents: list[str], n_labels: int) -> np.ndarray:
    matrix = hstack([fitted.words.transform(documents), fitted.chars.transform(documents)])
    result = np.zeros((len(documents), n_labels))
    result[:, fitted.model.classes_] = fitted.model.predict_proba(csr_matrix(matrix))
    return result


def _word_coefficients(fitted: _Fitted, n_labels: int) -> np.ndarray | None:
    """(labels, word columns) coefficients of the regression (two labels: ±coef)."""
    n_words = len(fitted.words.vocabulary_)
    coef = fitted.model.coef_[:, :n_words]
    classes = fitted.model.classes_
    result = np.zeros((n_labels, n_words))
    if len(classes) == 2:
        result[classes[1]] = coef[0] / 2
        result[classes[0]] = -coef[0] / 2
    else:
        result[classes] = coef
    return result
