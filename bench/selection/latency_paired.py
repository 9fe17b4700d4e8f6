"""Parse latency of several trained NLU models, measured interleaved in one process.

The machine is shared, so separate runs see different load. Here every held-out
message is parsed by each model in turn (rotating order), so all models see the
same conditions; wall-clock and process CPU time are recorded per parse.

Usage: .venv/bin/python -m bench.selection.latency_paired [--passes 3] [--root SNAPSHOT] NAME=MODEL.tar.gz ...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

from bench.common import percentile
from bench.selection.measure import REPO, heldout_messages, quiet_logs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--root", type=Path, default=REPO, help="folder with tests/test_nlu.yml and addons/")
    ap.add_argument("models", nargs="+", help="NAME=MODEL.tar.gz")
    args = ap.parse_args()
    sys.path.insert(0, str(args.root.resolve()))  # addons.* components

    from rasa.core.agent import Agent

    quiet_logs()
    texts = [text for text, _ in heldout_messages(args.root)]
    names = [m.split("=", 1)[0] for m in args.models]
    agents = {m.split("=", 1)[0]: Agent.load(m.split("=", 1)[1]) for m in args.models}
    wall: Dict[str, List[float]] = {n: [] for n in names}
    cpu: Dict[str, List[float]] = {n: [] for n in names}

    async def run() -> None:
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
        out[n] = {
            "parses": len(wall[n]),
            "p50_ms": statistics.median(wall[n]),
            "p95_ms": percentile(wall[n], 95),
            "cpu_p50_ms": statistics.median(cpu[n]),
            "cpu_p95_ms": percentile(cpu[n], 95),
        }
        o = out[n]
        print(
            f"| {n} | {o['parses']} | {o['p50_ms']:.1f} | {o['p95_ms']:.1f} | {o['cpu_p50_ms']:.1f} "
            f"| {o['cpu_p95_ms']:.1f} |"
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
