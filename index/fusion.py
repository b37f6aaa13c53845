"""Fusing dense and BM25 rankings: pure functions over {chunk id: score} maps.

Keys are chunk ids, not row numbers, and ties are broken by key: the order then depends only
on the chunks and their scores, so a sharded index ranks exactly as a single one.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TypeVar

from wbqa.ingest.errors import SettingProblem

Key = TypeVar("Key", bound=Hashable)

RRF_K = 60


def reciprocal_rank_fusion(rankings: list[list[Key]], k: int = RRF_K) -> dict[Key, float]:
    """Cormack, Clarke & Büttcher (SIGIR 2009): score = Σ 1 / (k + rank), ranks from 1.

    k = 60 is the paper's value; it damps the head so one list cannot dominate.
    """
    fused: dict[Key, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: dict[Key, float]) -> dict[Key, float]:
    """Scale to [0, 1]; a list of equal scores maps to 1.0."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {row: (value - low) / (high - low) for row, value in scores.items()}


def convex_combination(
    dense: dict[Key, float], lexical: dict[Key, float], alpha: float = 0.5
) -> dict[Key, float]:
    """alpha·minmax(dense) + (1−alpha)·minmax(bm25) (Bruch et al., TOIS 2023); missing = 0."""
    if not 0.0 <= alpha <= 1.0:
        raise SettingProblem(f"alpha must be between 0 and 1, got {alpha}")
    dense_n, lexical_n = min_max(dense), min_max(lexical)
    rows = set(dense_n) | set(lexical_n)
    return {
        row: alpha * dense_n.get(row, 0.0) + (1 - alpha) * lexical_n.get(row, 0.0) for row in rows
    }


def top_rows(scores: dict[Key, float], k: int) -> list[tuple[Key, float]]:
    """The k best (key, score) pairs, best first; ties broken by key for stable output."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]


def with_boundary_ties(ranked: list[tuple[Key, float]], pool: int) -> list[tuple[Key, float]]:
    """The first `pool` of a best-first list plus every later item tied with the last one:
    what a shard must return so that the merged top `pool` is the single-index top `pool`."""
    if len(ranked) <= pool:
        return ranked
    cut = ranked[pool - 1][1]
    end = pool
    while end < len(ranked) and ranked[end][1] == cut:
        end += 1
    return ranked[:end]


def fuse(
    dense: dict[Key, float],
    lexical: dict[Key, float],
    mode: str,
    pool: int,
    fusion: str = "rrf",
    alpha: float = 0.5,
) -> dict[Key, float]:
    """One fused {key: score} map from each retriever's candidates (cut to their top `pool`)."""
    dense = dict(top_rows(dense, pool))
    lexical = dict(top_rows(lexical, pool))
    if mode == "dense":
        return dense
    if mode == "bm25":
        return lexical
    if fusion == "convex":
        return convex_combination(dense, lexical, alpha)
    return reciprocal_rank_fusion(
        [[key for key, _ in top_rows(dense, pool)], [key for key, _ in top_rows(lexical, pool)]]
    )
