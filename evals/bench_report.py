"""The tables and plots of `wbqa bench`, from the figures it measured (evals.bench)."""

from __future__ import annotations

from pathlib import Path

from wbqa.evals.pdf_bench import pdf_rows
from wbqa.evals.report import bar_plot, line_plot, markdown_table
from wbqa.ingest.storage import atomic_write_text


def _ms(values: dict[str, float]) -> str:
    return f"{values['p50']:.1f} / {values['p95']:.1f} / {values['p99']:.1f} ms"


def bench_tables(figures: dict) -> str:
    """The Markdown tables `wbqa bench` prints, from the figures it measured."""
    indexing = figures["indexing"]
    rows = [
        {
            "figure": "embedding (cold, bundled corpus)",
            "value": f"{indexing['texts_per_s']:.0f} texts/s, "
            f"{indexing['tokens_per_s']:.0f} tokens/s",
        },
        {
            "figure": "model cost",
            "value": f"{indexing['mflops_per_token']:.1f} MFLOP/token "
            f"at {indexing['mean_tokens']:.0f} tokens",
        },
        {"figure": "machine fp32 matmul", "value": f"{indexing['machine_gflops']:.0f} GFLOP/s"},
        {
            "figure": "embedding share of that limit",
            "value": f"{indexing['share_of_limit']:.0%} "
            f"({indexing['achieved_gflops']:.0f} GFLOP/s)",
        },
    ]
    if figures.get("collection"):
        cold = figures["collection"]
        rows.append(
            {
                "figure": f"index {cold['collection']} cold ({cold['documents']} docs, "
                f"{cold['chunks']} chunks)",
                "value": f"{cold['seconds']:.0f} s: {cold['chunks_per_s']:.0f} chunks/s, "
                f"{cold['tokens_per_s']:.0f} tokens/s",
            }
        )
    rows += pdf_rows(figures.get("pdf_reading") or {})
    for step, values in figures.get("incremental", {}).items():
        rows.append(
            {
                "figure": f"re-index bundled corpus, {step}",
                "value": f"{values['seconds']:.1f} s, {values['embedded']:.0f} texts embedded",
            }
        )
    for name, values in figures["latency_ms"].items():
        rows.append({"figure": f"{name} p50/p95/p99", "value": _ms(values)})
    rows += [
        {
            "figure": "ask, 4 concurrent clients",
            "value": f"{figures['ask_per_s_4_clients']:.0f} questions/s",
        },
        {"figure": "serve: start to first answer", "value": f"{figures['serve']['ready_s']:.1f} s"},
        {
            "figure": "serve: peak memory (RSS)",
            "value": f"{figures['serve']['peak_rss_mb']:.0f} MB",
        },
    ]
    tables = [markdown_table(rows, ["figure", "value"])]
    if figures.get("backends"):
        tables.append(
            markdown_table(figures["backends"], ["backend", "texts_per_s", "answer_recall@5"])
        )
    if figures.get("scale"):
        tables.append(
            markdown_table(
                figures["scale"], ["vectors", "kind", "build_s", "size_mb", "p50_ms", "recall@10"]
            )
        )
    if figures.get("peer"):
        tables.append(
            markdown_table(
                figures["peer"],
                [
                    "system",
                    "answer_recall@5",
                    "paraphrased",
                    "search_p50_ms",
                    "search_p95_ms",
                    "speed-up",
                ],
            )
        )
    return "\n\n".join(tables)


def peer_rows(results: list) -> list[dict]:
    """One row per system; speed-up is the peer's p50 latency over each system's."""
    peer_p50 = results[-1].search_p50_ms
    return [
        {
            "system": r.name,
            "answer_recall@5": r.answer_recall_at_5,
            "paraphrased": r.answer_recall_at_5_paraphrase,
            "search_p50_ms": r.search_p50_ms,
            "search_p95_ms": r.search_p95_ms,
            "speed-up": f"{peer_p50 / r.search_p50_ms:.1f}x" if r.search_p50_ms else "",
        }
        for r in results
    ]


def bench_plots(figures: dict, out: Path) -> list[Path]:
    """PNG plots next to bench.md: latency per operation, backends, and scale."""
    written = []
    latency = figures["latency_ms"]
    path = out / "latency.png"
    bar_plot(
        path,
        list(latency),
        {f"p{q}": [latency[name][f"p{q}"] for name in latency] for q in (50, 95, 99)},
        "Warm latency, one client (ms)",
        ylim=None,
    )
    written.append(path)
    if figures.get("backends"):
        path = out / "backends.png"
        names = [row["backend"] for row in figures["backends"]]
        bar_plot(
            path,
            names,
            {"texts/s": [row["texts_per_s"] for row in figures["backends"]]},
            "Embedding throughput per backend (texts/s)",
            ylim=None,
        )
        written.append(path)
    if figures.get("scale"):
        path = out / "scale.png"
        sizes = sorted({row["vectors"] for row in figures["scale"]})
        kinds = sorted({row["kind"] for row in figures["scale"]})
        p50 = {(r["kind"], r["vectors"]): r["p50_ms"] for r in figures["scale"]}
        series = {kind: [p50[kind, n] for n in sizes] for kind in kinds}
        line_plot(path, sizes, series, "p50 search latency (ms)", "vectors", log=True)
        written.append(path)
    if figures.get("peer"):
        path = out / "peer.png"
        bar_plot(
            path,
            [row["system"] for row in figures["peer"]],
            {
                "p50 ms": [row["search_p50_ms"] for row in figures["peer"]],
                "p95 ms": [row["search_p95_ms"] for row in figures["peer"]],
            },
            "Hybrid search latency, same corpus and questions (ms)",
            ylim=None,
        )
        written.append(path)
    return written


def scale_out_tables(figures: dict) -> str:
    """The two `wbqa bench --scale-out` tables: indexing, then search latency."""
    return (
        markdown_table(
            figures["indexing"],
            [
                "indexing",
                "chunks",
                "texts embedded",
                "seconds",
                "chunks_per_s",
                "texts_per_s",
                "stages",
            ],
        )
        + "\n\n"
        + markdown_table(figures["search"], ["search", "p50_ms", "p95_ms", "ray overhead p50"])
    )


def write_bench(figures: dict, out: Path) -> None:
    """bench.md, bench.json and the PNG plots in `out`."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "bench.md", bench_tables(figures) + "\n")
    atomic_write_text(out / "bench.json", json.dumps(figures, indent=2) + "\n")
    bench_plots(figures, out)


def write_scale_out(figures: dict, out: Path) -> None:
    """scale-out.md and scale-out.json in `out`."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "scale-out.md", scale_out_tables(figures) + "\n")
    atomic_write_text(out / "scale-out.json", json.dumps(figures, indent=2) + "\n")
