"""Parse latency of several trained NLU models, measured interleaved in one process.

The machine is shared, so separate runs see different load. Here every held-out
message is parsed by each model in turn (rotating order), so all models see the
same conditions; wall-clock and process CPU time are recorded per parse.

Usage: .venv/bin/python scripts/select_latency_paired.py [--passes 3] NAME=MODEL.tar.gz ...
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("SELECT_ROOT", Path(__file__).resolve().parent.parent)).resolve()
sys.path.insert(0, str(ROOT))


def pct(values, q):
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("models", nargs="+")
    args = ap.parse_args()

    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)
    texts = [m.get("text") for m in load_data(str(ROOT / "tests/test_nlu.yml")).intent_examples]
    names = [m.split("=", 1)[0] for m in args.models]
    agents = {m.split("=", 1)[0]: Agent.load(m.split("=", 1)[1]) for m in args.models}
    wall = {n: [] for n in names}
    cpu = {n: [] for n in names}

    async def run():
        for text in texts[:10]:
            for n in names:
                await agents[n].parse_message(text)
        for p in range(args.passes):
            for i, text in enumerate(texts):
                shift = (i + p) % len(names)
                for n in names[shift:] + names[:shift]:
                    t, c = time.perf_counter(), time.process_time()
                    await agents[n].parse_message(text)
                    wall[n].append((time.perf_counter() - t) * 1000)
                    cpu[n].append((time.process_time() - c) * 1000)

    asyncio.run(run())
    out = {}
    print(f"load average after: {os.getloadavg()}")
    print("| model | parses | wall p50 ms | wall p95 ms | CPU p50 ms | CPU p95 ms |")
    print("|---|---|---|---|---|---|")
    for n in names:
        out[n] = {"parses": len(wall[n]), "p50_ms": statistics.median(wall[n]), "p95_ms": pct(wall[n], 0.95),
                  "cpu_p50_ms": statistics.median(cpu[n]), "cpu_p95_ms": pct(cpu[n], 0.95)}
        o = out[n]
        print(f"| {n} | {o['parses']} | {o['p50_ms']:.1f} | {o['p95_ms']:.1f} | {o['cpu_p50_ms']:.1f} | {o['cpu_p95_ms']:.1f} |")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
