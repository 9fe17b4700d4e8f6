"""bench/report.py renders docs/benchmarks.md from raw results (a small fixture here, no benchmark run)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import load_results, render

MiB = 2**20


def _load(tps: float, p50: float, p95: float) -> dict:
    return {
        "turns": 100,
        "errors": 0,
        "throughput_tps": tps,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p95 + 5,
        "peak_rss_bytes": {"rasa": 700 * MiB, "action_server": 60 * MiB},
    }


def _write(out: Path, rel: str, data: dict) -> None:
    (out / rel).parent.mkdir(parents=True, exist_ok=True)
    (out / rel).write_text(json.dumps(data), encoding="utf-8")


def _fixture(out: Path) -> None:
    section = {
        "wall_seconds": 300,
        "cpu_seconds": 360,
        "date_utc": "2026-01-01 00:00:00 UTC",
        "git_commit": "abcdef123",
    }
    _write(
        out,
        "meta.json",
        {
            "date_utc": "2026-01-01 00:00:00 UTC",
            "nproc": 2,
            "settings": {"quick": True},
            "loadavg_at_start": [0.1, 0.2, 0.3],
            "sections_run": ["ours", "starter"],
            "sections": {"ours": section, "starter": section},
            "wall_seconds": 600,
        },
    )
    _write(
        out,
        "ours/result.json",
        {
            "load": {"1": _load(30, 20, 33), "10": _load(20, 200, 300), "50": _load(19, 1000, 1500)},
            "startup_seconds": [11.0, 12.0, 13.0],
            "first_turn_ms": 150,
            "train_seconds": 100.0,
            "model_bytes": 18 * MiB,
            "memory_idle": {"rasa_rss_bytes": 600 * MiB, "action_server_rss_bytes": 50 * MiB},
        },
    )
    _write(
        out,
        "starter/result.json",
        {
            "load": {"1": _load(20, 30, 40), "10": _load(10, 400, 500), "50": _load(9, 2000, 2500)},
            "startup_seconds": [20.0, 21.0],
            "first_turn_ms": 300,
            "train_seconds": 200.0,
            "model_bytes": 24 * MiB,
            "memory_idle": {"rasa_rss_bytes": 1000 * MiB},
        },
    )


def test_report_renders_the_measured_sections(tmp_path):
    _fixture(tmp_path)
    page = render(load_results(tmp_path))
    lines = page.splitlines()
    assert lines[0] == "# Benchmarks"
    assert "> **Quick run (`--quick`)**" in page
    assert "| ours | 2026-01-01 00:00:00 UTC | `abcdef1` | 5.0 min | 6.0 min |" in lines
    # targets: computed from the fixture, met or missed
    assert "| single-conversation p95 turn latency | ≤ 40 ms | 33.0 ms | **met** |" in lines
    assert (
        "| throughput at 10 concurrent conversations, ours / starter | ≥ 4× | 2.00× (20.0 vs 10.0 turns/s) "
        "| **missed** |"
    ) in lines
    assert "| start-up (spawn `rasa run` → serving), worst of runs | ≤ 25 s | 13.0 s | **met** |" in lines
    assert "| Rasa server RSS, peak under load | ≤ 1 GB | 700 MiB | **met** |" in lines
    # speed tables
    assert "| 10 | ours | 100 | 20.0 | 200.0 ms | 300.0 ms | 305.0 ms | 0 |" in lines
    assert "| 10 | 2.00× | 0.50× | 0.60× | 0.60× |" in lines
    assert (
        "| start-up, median of 3 (spawn `rasa run` → HTTP 200; model load included) | 12.0 s | 20.5 s | 0.59× |"
        in lines
    )
    assert "| start-up, each run | 11.0, 12.0, 13.0 s | 20.0, 21.0 s | |" in lines
    assert "| action server RSS, idle / peak | 50 / 60 MiB | (none) | |" in lines
    assert "Cold first turn right after start-up: ours 150 ms, starter 300 ms." in lines
    assert "No profile in this run (profiling off)." in lines
    # sections without results are left out; no template syntax or continuation left in the page
    assert "## 1. Intent classification" not in page and "## 2. Entity extraction" not in page
    assert lines[-1].startswith("- The accuracy jobs run two at a time")
    assert "{{" not in page and "{%" not in page and not any(line.endswith("\\") for line in lines)
    assert "\n\n\n" not in page


def test_report_renders_without_results(tmp_path):
    page = render(load_results(tmp_path))
    assert page.startswith("# Benchmarks\n")
    assert "## Reproduce" in page and "## 4. Notes and limits" in page
    assert "## Targets" not in page and "## 3. Speed and cost" not in page
