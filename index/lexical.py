"""BM25 over chunks with bm25s: English stopwords and Snowball stemming."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]):
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)


def build_bm25(texts: list[str]):
    import bm25s

    retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


def save_bm25(retriever, folder: Path) -> None:
    retriever.save(str(folder))


def load_bm25(folder: Path):
    import bm25s

    return bm25s.BM25.load(str(folder), mmap=False, load_corpus=False)


def bm25_scores(retriever, query: str) -> np.ndarray:
    """A score for every chunk row (0 where no query term occurs)."""
    import bm25s

    tokens = bm25s.tokenize(
        [query], stopwords="en", stemmer=_stemmer(), show_progress=False, return_ids=False
    )[0]
    vocab = retriever.vocab_dict
    known = [t for t in tokens if t in vocab]
    if not known:
        return np.zeros(retriever.scores["num_docs"], dtype=np.float32)
    return retriever.get_scores(known).astype(np.float32)


def idf_table(retriever) -> dict[str, float]:
    """Lucene BM25 IDF of every (stemmed) vocabulary term: ln(1 + (N − df + 0.5) / (df + 0.5)).

    Document frequencies are read off the index's sparse matrix (non-zeros per term column).
    """
    matrix = retriever.scores
    doc_freq = np.diff(np.asarray(matrix["indptr"]))
    n_docs = int(matrix["num_docs"])
    vocab = retriever.vocab_dict
    return {
        term: math.log(1 + (n_docs - doc_freq[i] + 0.5) / (doc_freq[i] + 0.5))
        for term, i in vocab.items()
        if term and i < len(doc_freq)
    }
