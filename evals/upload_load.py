"""Hostile uploads measured: how fast and with how little memory the two Word bombs of
`evals.hostile_files` are refused, against one ordinary Word file, and what a stream of
them does to other users' questions.

    python -m wbqa.evals.upload_load [--index-dir .wbqa/index] [--asks 200] [--json]

It works on a copy of the index (uploads never touch yours) and asks through one `Engine`,
as the app's server does: the quiet p95 first, then again while another thread uploads the
bombs one after the other. Memory is the reading worker's peak resident size (it reads the
files) and the asking process's own peak growth during each upload (Linux: VmHWM, reset
before each).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from wbqa.app.engine import Engine
from wbqa.app.questions import load_questions
from wbqa.evals.hostile_files import paragraphs_bomb, plain_docx, whitespace_bomb
from wbqa.evals.metrics import percentile
from wbqa.index.build import default_index_dir

BOMBS = {"paragraphs bomb": paragraphs_bomb, "whitespace bomb": whitespace_bomb}


@dataclass
class UploadFigure:
    name: str
    size_kb: float
    seconds: float
    refused: bool
    worker_peak_mb: float
    above_baseline_mb: float
    server_growth_mb: float
    message: str


def _status_kb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    return 0.0


def _reset_peak() -> None:
    """Start VmHWM (peak resident size) again from the current size."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def timed_upload(engine: Engine, name: str, data: bytes, baseline_mb: float) -> UploadFigure:
    _reset_peak()
    before = _status_kb("VmRSS")
    started = time.perf_counter()
    result = engine.add_files([(name, data)])
    seconds = time.perf_counter() - started
    growth = max(_status_kb("VmHWM") - before, 0.0) / 1024
    return UploadFigure(
        name,
        round(len(data) / 1024, 1),
        round(seconds, 3),
        bool(result.errors),
        round(result.peak_memory_mb, 1),
        round(result.peak_memory_mb - baseline_mb, 1),
        round(growth, 1),
        (result.errors or result.added or [""])[0],
    )


def ask_latencies(engine: Engine, questions: list[str], count: int) -> list[float]:
    times = []
    for number in range(count):
        started = time.perf_counter()
        engine.ask(questions[number % len(questions)])
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(index_dir: Path, asks: int = 200) -> dict:
    """Every figure of the module docstring, on a scratch copy of `index_dir`."""
    with tempfile.TemporaryDirectory(prefix="wbqa-upload-load-") as scratch:
        copy = Path(scratch) / "index"
        shutil.copytree(index_dir, copy)
        engine = Engine.open(copy)
        questions = [q.question for q in load_questions()][:40]
        ask_latencies(engine, questions, 10)  # warm caches and sessions
        quiet = ask_latencies(engine, questions, asks)
        baseline = timed_upload(engine, "ordinary.docx", plain_docx(), 0.0)
        baseline_mb = baseline.worker_peak_mb
        baseline.above_baseline_mb = 0.0
        bombs = {name: build() for name, build in BOMBS.items()}
        figures = [baseline] + [
            timed_upload(engine, f"{name.replace(' ', '-')}.docx", data, baseline_mb)
            for name, data in bombs.items()
        ]
        stop, hostile = threading.Event(), []

        def upload_bombs():
            while not stop.is_set():
                for name, data in bombs.items():
                    hostile.append(timed_upload(engine, f"{name}.docx", data, baseline_mb))

        uploader = threading.Thread(target=upload_bombs)
        uploader.start()
        try:
            during = ask_latencies(engine, questions, asks)
        finally:
            stop.set()
            uploader.join()
    return {
        "uploads": [asdict(f) for f in figures],
        "ask_ms": {
            "quiet": {"p50": percentile(quiet, 50), "p95": percentile(quiet, 95)},
            "during_hostile_uploads": {
                "p50": percentile(during, 50),
                "p95": percentile(during, 95),
            },
            "asks": asks,
            "hostile_uploads_meanwhile": len(hostile),
        },
    }


def report(figures: dict) -> str:
    lines = [
        "| upload | size | seconds | refused | worker peak | above one-document baseline | "
        "server growth |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in figures["uploads"]:
        lines.append(
            f"| {f['name']} | {f['size_kb']:,.0f} KB | {f['seconds']:.2f} | "
            f"{'yes' if f['refused'] else 'no'} | {f['worker_peak_mb']:.0f} MB | "
            f"{f['above_baseline_mb']:+.0f} MB | {f['server_growth_mb']:.0f} MB |"
        )
    asks = figures["ask_ms"]
    quiet, busy = asks["quiet"], asks["during_hostile_uploads"]
    lines += [
        "",
        f"ask latency over {asks['asks']} questions: quiet p50 {quiet['p50']:.1f} ms, "
        f"p95 {quiet['p95']:.1f} ms; during {asks['hostile_uploads_meanwhile']} hostile "
        f"uploads p50 {busy['p50']:.1f} ms, p95 {busy['p95']:.1f} ms "
        f"({busy['p95'] / quiet['p95']:.2f}x)",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=default_index_dir())
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    figures = measure(options.index_dir, options.asks)
    print(json.dumps(figures, indent=2) if options.json else report(figures))


if __name__ == "__main__":
    main()
