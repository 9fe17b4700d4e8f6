"""Parse a few messages with a trained model and print the final intent and top-2.

Usage: .venv/bin/python scripts/select_probe.py MODEL.tar.gz "text" ["text" ...]
"""
from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)
    agent = Agent.load(sys.argv[1])

    async def run():
        for text in sys.argv[2:]:
            r = await agent.parse_message(text)
            top = [x for x in r.get("intent_ranking", []) if x["name"] != "nlu_fallback"][:2]
            tops = ", ".join(f"{x['name']} {x['confidence']:.2f}" for x in top)
            print(f"| {text} | {r['intent']['name']} | {tops} |")

    asyncio.run(run())


if __name__ == "__main__":
    main()
