"""Closed-loop asyncio load generator for Rasa's REST webhook (loopback only, bounded).

N virtual users each hold one conversation at a time: send a message, wait
for the reply, send the next one at once (no think time). After
`turns_per_conversation` turns a user starts a new conversation (new sender
id). The run stops by itself after `warmup + duration` seconds or `max_turns`
turns; turns that started during the warm-up are not counted.

    python -m bench.load --url http://127.0.0.1:5005 --concurrency 10 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from typing import Any, Dict, List, Sequence
from urllib.parse import urlparse

from bench.common import percentile

WEBHOOK = "/webhooks/rest/webhook"


def _check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit(f"refusing to load {url}: only loopback addresses are allowed")


def summarise(latencies_ms: Sequence[float], seconds: float, errors: int = 0) -> Dict[str, Any]:
    n = len(latencies_ms)
    return {
        "turns": n,
        "errors": errors,
        "seconds": seconds,
        "throughput_tps": n / seconds if seconds > 0 else None,
        "p50_ms": percentile(latencies_ms, 50),
        "p95_ms": percentile(latencies_ms, 95),
        "p99_ms": percentile(latencies_ms, 99),
        "mean_ms": (sum(latencies_ms) / n) if n else None,
        "max_ms": max(latencies_ms) if n else None,
    }


async def _post(session, url: str, sender: str, text: str) -> float:
    t = time.perf_counter()
    async with session.post(url, json={"sender": sender, "message": text}) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {body[:200]!r}")
        json.loads(body)
    return (time.perf_counter() - t) * 1000


async def run_load(
    base_url: str,
    messages: Sequence[str],
    concurrency: int,
    duration: float,
    warmup: float = 3.0,
    turns_per_conversation: int = 8,
    max_turns: int = 20000,
    prefix: str = "load",
    seed: int = 42,
    request_timeout: float = 60.0,
    keepalive: bool = True,
) -> Dict[str, Any]:
    """Closed-loop load. ``keepalive=False`` opens a connection per request: with several
    Sanic workers on one socket, kept-alive connections stay on whichever worker accepted
    them (often all on one), while new connections go to a worker that is free."""
    import aiohttp

    _check_loopback(base_url)
    url = base_url.rstrip("/") + WEBHOOK
    rng = random.Random(seed)
    order = list(messages)
    rng.shuffle(order)
    records: List[tuple] = []  # (start offset s, latency ms, turn index in conversation)
    errors = 0
    started = 0
    t_begin = time.perf_counter()
    t_measure = t_begin + warmup
    t_end = t_measure + duration

    async def user(u: int, session) -> None:
        nonlocal errors, started
        conv = 0
        i = u * 7919  # spread users over the message list
        while True:
            sender = f"{prefix}-c{concurrency}-u{u}-{conv}"
            for turn in range(turns_per_conversation):
                now = time.perf_counter()
                if now >= t_end or started >= max_turns:
                    return
                started += 1
                text = order[i % len(order)]
                i += 1
                try:
                    ms = await _post(session, url, sender, text)
                    records.append((now, ms, turn))
                except Exception:  # noqa: BLE001 - counted, never retried
                    errors += 1
            conv += 1

    timeout = aiohttp.ClientTimeout(total=request_timeout)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=not keepalive)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(user(u, session) for u in range(concurrency)))
    t_stop = time.perf_counter()
    measured = [ms for (t, ms, _) in records if t >= t_measure]
    # Throughput over the measured window: from the end of the warm-up to the last reply.
    window = t_stop - t_measure
    out = summarise(measured, window, errors)
    out.update(
        {
            "concurrency": concurrency,
            "warmup_s": warmup,
            "duration_s": duration,
            "keepalive": keepalive,
            "turns_per_conversation": turns_per_conversation,
            "warmup_turns": len(records) - len(measured),
        }
    )
    return out


async def long_conversation(
    base_url: str, messages: Sequence[str], turns: int, sender: str, request_timeout: float = 60.0
) -> List[float]:
    """One conversation of `turns` turns; the latency (ms) of every turn, in order."""
    import aiohttp

    _check_loopback(base_url)
    url = base_url.rstrip("/") + WEBHOOK
    out = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=request_timeout)) as session:
        for t in range(turns):
            out.append(await _post(session, url, sender, messages[t % len(messages)]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:5005")
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--message", action="append", help="message text (repeatable); default: tests/test_nlu.yml")
    args = ap.parse_args()
    messages = args.message
    if not messages:
        from bench.serve import project_messages

        messages = project_messages()
    print(json.dumps(asyncio.run(run_load(args.url, messages, args.concurrency, args.duration, args.warmup)), indent=2))


if __name__ == "__main__":
    main()
