"""BM25 over chunks with bm25s: English stopwords and Snowball stemming.

A shard of a sharded index scores with corpus-level statistics (document frequencies,
document count and average length of the whole corpus, `CorpusStats`), so its BM25 scores
equal the single index's and shards' results merge by score.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from wbqa.index.names import with_currency_codes
from wbqa.ingest.storage import atomic_write_text

K1, B, METHOD = 1.2, 0.75, "lucene"


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]):
    """BM25 tokens; a currency symbol counts as its code, so "€" and "EUR" match."""
    import bm25s

    return bm25s.tokenize(
        [with_currency_codes(text) for text in texts],
        stopwords="en",
        stemmer=_stemmer(),
        show_progress=False,
    )


@dataclass(frozen=True)
class CorpusStats:
    """What BM25 needs to know about the whole corpus: N, mean length, and df per term."""

    n_docs: int
    total_length: int
    doc_freq: dict[str, int]

    @property
    def avg_doc_len(self) -> float:
        return self.total_length / self.n_docs if self.n_docs else 0.0

    def merge(self, other: CorpusStats) -> CorpusStats:
        doc_freq = dict(self.doc_freq)
        for term, count in other.doc_freq.items():
            doc_freq[term] = doc_freq.get(term, 0) + count
        return CorpusStats(
            self.n_docs + other.n_docs, self.total_length + other.total_length, doc_freq
        )

    def save(self, path: Path) -> None:
        payload = {
            "n_docs": self.n_docs,
            "total_length": self.total_length,
            "doc_freq": self.doc_freq,
        }
        atomic_write_text(path, json.dumps(payload, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> CorpusStats:
        payload = json.loads(path.read_text(encoding="utf-8"))
        return cls(int(payload["n_docs"]), int(payload["total_length"]), payload["doc_freq"])


def corpus_stats(texts: list[str]) -> CorpusStats:
    """Document count, total length and document frequencies of `texts` (as BM25 tokenises
    them); shards' stats add up with `merge` to the whole corpus's."""
    tokenized = tokenize(texts)
    term_of = {index: term for term, index in tokenized.vocab.items()}
    doc_freq: dict[str, int] = {}
    for ids in tokenized.ids:
        for token_id in set(ids):
            term = term_of[token_id]
            doc_freq[term] = doc_freq.get(term, 0) + 1
    return CorpusStats(len(tokenized.ids), sum(len(ids) for ids in tokenized.ids), doc_freq)


def _corpus_level_bm25(stats: CorpusStats, term_of: dict[int, str]):
    """A bm25s.BM25 whose IDF and average length come from `stats`.

    bm25s computes both from the documents it indexes; its `build_index_from_ids` is the
    documented place to build differently. The steps below are bm25s's own, fed the corpus's
    statistics: scores then equal, float for float, those of one index over every chunk.
    """
    import bm25s
    import scipy.sparse as sp
    from bm25s.scoring import (
        _build_idf_array,
        _build_scores_and_indices_for_matrix,
        _calculate_doc_freqs,
        _select_idf_scorer,
    )

    class CorpusLevelBM25(bm25s.BM25):
        def build_index_from_ids(
            self, unique_token_ids, corpus_token_ids, show_progress=True, leave_progress=False
        ):
            self.nonoccurrence_array = None  # only BM25L and BM25+ use it
            local_df = _calculate_doc_freqs(corpus_token_ids, unique_token_ids, False)
            corpus_df = {
                token_id: stats.doc_freq.get(term_of.get(token_id, ""), count)
                for token_id, count in local_df.items()
            }
            idf = _build_idf_array(
                corpus_df, stats.n_docs, _select_idf_scorer(self.idf_method), self.dtype
            )
            scores, doc_idx, vocab_idx = _build_scores_and_indices_for_matrix(
                corpus_token_ids=corpus_token_ids,
                idf_array=idf,
                # bm25s's own mean is a NumPy float64, which keeps the length norm in float64.
                avg_doc_len=np.float64(stats.avg_doc_len),
                doc_frequencies=local_df,
                k1=self.k1,
                b=self.b,
                delta=self.delta,
                nonoccurrence_array=None,
                method=self.method,
                dtype=self.dtype,
                int_dtype=self.int_dtype,
                show_progress=False,
            )
            matrix = sp.csc_matrix(
                (scores, (doc_idx, vocab_idx)),
                shape=(len(corpus_token_ids), len(unique_token_ids)),
                dtype=self.dtype,
            )
            return {
                "data": matrix.data,
                "indices": matrix.indices,
                "indptr": matrix.indptr,
                "num_docs": len(corpus_token_ids),
            }

    return CorpusLevelBM25(k1=K1, b=B, method=METHOD)


def build_bm25(texts: list[str], stats: CorpusStats | None = None):
    """BM25 over `texts`; with `stats`, IDF and length norm are the whole corpus's."""
    import bm25s

    tokenized = tokenize(texts)
    if stats is None:
        retriever = bm25s.BM25(k1=K1, b=B, method=METHOD)
    else:
        term_of = {index: term for term, index in tokenized.vocab.items()}
        retriever = _corpus_level_bm25(stats, term_of)
    retriever.index(tokenized, show_progress=False)
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
        [with_currency_codes(query)],
        stopwords="en",
        stemmer=_stemmer(),
        show_progress=False,
        return_ids=False,
    )[0]
    vocab = retriever.vocab_dict
    known = [t for t in tokens if t in vocab]
    if not known:
        return np.zeros(retriever.scores["num_docs"], dtype=np.float32)
    return retriever.get_scores(known).astype(np.float32)


def lucene_idf(doc_freq: int, n_docs: int) -> float:
    """Lucene BM25 IDF: ln(1 + (N − df + 0.5) / (df + 0.5))."""
    return math.log(1 + (n_docs - doc_freq + 0.5) / (doc_freq + 0.5))


def idf_table(retriever) -> dict[str, float]:
    """IDF of every (stemmed) vocabulary term of one index.

    Document frequencies are read off the index's sparse matrix (non-zeros per term column).
    """
    matrix = retriever.scores
    doc_freq = np.diff(np.asarray(matrix["indptr"]))
    n_docs = int(matrix["num_docs"])
    vocab = retriever.vocab_dict
    return {
        term: lucene_idf(int(doc_freq[i]), n_docs)
        for term, i in vocab.items()
        if term and i < len(doc_freq)
    }


def stats_idf_table(stats: CorpusStats) -> dict[str, float]:
    """IDF of every term of the corpus described by `stats` (a sharded index's whole corpus)."""
    return {term: lucene_idf(df, stats.n_docs) for term, df in stats.doc_freq.items() if term}
