"""In-process parse latency of the trained model (issue 11: p95 <= 10 ms for 200-character messages).

    python -m bench.parse_latency --model bench/out/nlu/chosen/model.tar.gz --out /tmp/parse_latency.json

`Agent.parse_message` (the whole NLU pipeline, what the server runs for every message),
warm: a few parses first, not timed. Two message sets:

  chars200   exactly 200 characters each, built from the realistic set's long stories:
             starting from each story in turn, the following stories are appended
             until the text reaches 200 characters, then it is cut at 200
  realistic  every message of tests/realistic_nlu.yml as it is

Each message is parsed `--passes` times; wall and process-CPU milliseconds per parse
(the CPU time shows how much of the wall time was waiting for a shared core).
A further pass over the 200-character messages times each graph node (component)
of the parse: where the time goes. It is separate because the timing wrapper costs a little.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, realistic_checker, write_json  # noqa: E402

LENGTH = 200
LONG_STORY = "long_story"


def messages_of_length(stories: List[str], length: int = LENGTH) -> List[str]:
    """One message per story: it and the stories after it (cyclically), cut at exactly `length` characters."""
    if sum(len(s) for s in stories) < length:
        raise ValueError(f"the stories together are shorter than {length} characters")
    out = []
    for i in range(len(stories)):
        text, j = "", i
        while len(text) < length:
            text += stories[j % len(stories)]
            j += 1
        out.append(text[:length])
    return out


def chars200_messages() -> List[str]:
    examples = realistic_checker().load_examples()
    return messages_of_length([e["text"] for e in examples if LONG_STORY in e["kinds"]])


def _summary(wall: List[float], cpu: List[float], n: int) -> Dict[str, Any]:
    return {
        "n": n,
        "parses": len(wall),
        "p50_ms": percentile(wall, 50),
        "p95_ms": percentile(wall, 95),
        "p99_ms": percentile(wall, 99),
        "mean_ms": sum(wall) / len(wall),
        "max_ms": max(wall),
        "cpu_p50_ms": percentile(cpu, 50),
        "cpu_p95_ms": percentile(cpu, 95),
    }


async def time_parses(agent, texts: List[str], passes: int) -> Dict[str, Any]:
    wall, cpu = [], []
    for _ in range(passes):
        for text in texts:
            t, c = time.perf_counter(), time.process_time()
            await agent.parse_message(text)
            cpu.append((time.process_time() - c) * 1000)
            wall.append((time.perf_counter() - t) * 1000)
    return _summary(wall, cpu, len(texts))


async def time_components(agent, texts: List[str]) -> Dict[str, float]:
    """Mean milliseconds per parse in each graph node (component), and in the whole parse."""
    from rasa.engine import graph

    spent: Dict[str, float] = {}
    original = graph.GraphNode.__call__

    def timed(node, *args, **kwargs):
        t = time.perf_counter()
        try:
            return original(node, *args, **kwargs)
        finally:
            spent[node._node_name] = spent.get(node._node_name, 0.0) + time.perf_counter() - t

    graph.GraphNode.__call__ = timed
    try:
        t = time.perf_counter()
        for text in texts:
            await agent.parse_message(text)
        total = time.perf_counter() - t
    finally:
        graph.GraphNode.__call__ = original
    split = {name: s / len(texts) * 1000 for name, s in sorted(spent.items(), key=lambda kv: -kv[1])}
    return {"whole_parse_ms": total / len(texts) * 1000, "nodes_ms": split}


async def measure(model: Path, passes: int) -> Dict[str, Any]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    long = chars200_messages()
    realistic = [e["text"] for e in realistic_checker().load_examples()]
    for text in long[:10] + realistic[:10]:  # warm-up: lazy imports, jieba's dictionary, caches
        await agent.parse_message(text)
    out = {"model": str(model), "passes": passes, "loadavg_before": list(os.getloadavg())}
    out["chars200"] = await time_parses(agent, long, passes)
    out["chars200"]["lengths"] = sorted({len(t) for t in long})
    out["realistic"] = await time_parses(agent, realistic, passes)
    out["chars200_components"] = await time_components(agent, long)
    out["loadavg_after"] = list(os.getloadavg())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True, help="JSON file")
    ap.add_argument("--passes", type=int, default=2)
    args = ap.parse_args()
    os.chdir(ROOT)  # component paths in the model's config are relative to the root
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's debug parse log would print every message
    result = asyncio.run(measure(Path(args.model), args.passes))
    write_json(Path(args.out), result)
    c = result["chars200"]
    print(
        f"200-character messages: {c['n']} x {args.passes} parses, p50 {c['p50_ms']:.2f} p95 {c['p95_ms']:.2f} ms "
        f"(CPU p95 {c['cpu_p95_ms']:.2f} ms)"
    )


if __name__ == "__main__":
    main()
