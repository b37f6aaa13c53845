"""Bench helpers: the arithmetic behind the figures `wbqa bench` prints."""

from __future__ import annotations

import pytest

from evals.bench import encoder_flops_per_token, percentiles


def test_encoder_flops_by_hand():
    # MiniLM-L6: h=384, i=1536, 6 layers, 128 tokens of context.
    # per layer: 2·(4·384² + 2·384·1536) = 2·(589,824 + 1,179,648) = 3,538,944
    # attention: 2·2·128·384 = 196,608 → 3,735,552 per layer, × 6 = 22,413,312
    assert encoder_flops_per_token(384, 6, 1536, 128) == pytest.approx(22_413_312)


def test_percentiles():
    values = [float(v) for v in range(1, 101)]
    figures = percentiles(values)
    assert figures["p50"] == pytest.approx(50.5) and figures["p99"] == pytest.approx(99.01)
    assert percentiles([]) == {}
