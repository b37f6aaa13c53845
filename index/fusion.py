"""Fusing dense and BM25 rankings: pure functions over {chunk row: score} maps."""

from __future__ import annotations

RRF_K = 60


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Cormack, Clarke & Büttcher (SIGIR 2009): score = Σ 1 / (k + rank), ranks from 1.

    k = 60 is the paper's value; it damps the head so one list cannot dominate.
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return fused


def min_max(scores: dict[int, float]) -> dict[int, float]:
    """Scale to [0, 1]; a list of equal scores maps to 1.0."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-12:
        return dict.fromkeys(scores, 1.0)
    return {row: (value - low) / (high - low) for row, value in scores.items()}


def convex_combination(
    dense: dict[int, float], lexical: dict[int, float], alpha: float = 0.5
) -> dict[int, float]:
    """alpha·minmax(dense) + (1−alpha)·minmax(bm25) (Bruch et al., TOIS 2023); missing = 0."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    dense_n, lexical_n = min_max(dense), min_max(lexical)
    rows = set(dense_n) | set(lexical_n)
    return {
        row: alpha * dense_n.get(row, 0.0) + (1 - alpha) * lexical_n.get(row, 0.0) for row in rows
    }


def top_rows(scores: dict[int, float], k: int) -> list[tuple[int, float]]:
    """The k best (row, score) pairs, best first; ties broken by row for stable output."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
