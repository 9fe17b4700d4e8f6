"""Whole-turn latency of a full (NLU + core) model, without the action server.

For every held-out message (new conversation each time, in-memory tracker store):
  processor.log_message(UserMessage)          # normalise, tokenize, featurize, classify,
                                              # extract entities, store UserUttered
  processor.predict_next_for_sender_id(id)    # RulePolicy prediction
timed together. Custom actions run on the action server and do not depend on
the NLU pipeline, so they are not part of this number (`make bench` measures
whole turns over REST with the action server).

Usage: .venv/bin/python -m bench.selection.turn_latency MODEL.tar.gz [--passes 3] [--root SNAPSHOT]
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
from typing import Dict, List, Optional, Tuple

from bench.selection.measure import REPO, heldout_messages, quiet_logs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--root", type=Path, default=REPO, help="folder with tests/test_nlu.yml and addons/")
    args = ap.parse_args()
    sys.path.insert(0, str(args.root.resolve()))  # addons.* components

    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    quiet_logs()
    texts = [text for text, _ in heldout_messages(args.root)]

    async def run() -> Tuple[List[float], Dict[Optional[str], int]]:
        agent = Agent.load(args.model)
        p = agent.processor
        times: List[float] = []
        actions: Dict[Optional[str], int] = {}
        for i, text in enumerate(texts[:10]):  # warm-up
            await p.log_message(UserMessage(text, sender_id=f"warm{i}"))
            await p.predict_next_for_sender_id(f"warm{i}")
        for k in range(args.passes):
            for i, text in enumerate(texts):
                sid = f"s{k}-{i}"
                t = time.perf_counter()
                await p.log_message(UserMessage(text, sender_id=sid))
                pred = await p.predict_next_for_sender_id(sid)
                times.append((time.perf_counter() - t) * 1000)
                if k == 0:
                    name = max(pred["scores"], key=lambda s: s["score"])["action"] if pred else None
                    actions[name] = actions.get(name, 0) + 1
        return times, actions

    times, actions = asyncio.run(run())
    times.sort()
    info = {
        "turns": len(times),
        "p50_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
        "max_ms": times[-1],
        "loadavg_after": os.getloadavg(),
        "predicted_actions_pass1": dict(sorted(actions.items(), key=lambda kv: -kv[1])),
    }
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
