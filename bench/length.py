"""Issue 14: a turn's cost against the conversation's length, with segments off and on.

For each setting of TRACKER_SEGMENT_TURNS (0: a session is one segment, as Rasa stores it;
the default: addons/stores/tracker_segments.py closes a segment every N user turns), the same
trained model is started and measured three ways, over REST, one conversation at a time:

  latency   conversations of 200 turns; each repeats a cycle of 20 messages drawn (fixed
            seed) from the realistic set, so that any 20 consecutive turns hold the same
            messages and a window at turn 200 is comparable with the window at turn 1
  size      one more conversation, with the action server behind a recording proxy: the
            bytes Rasa sends the action server during each turn (all action calls of it)
  profile   py-spy on the Rasa server and on the action server during turns 1-20 and again
            during turns 181-200, of further conversations; every busy sample is given to
            one part of the turn (PARTS), so the parts add up to the turn

    python -m bench.length --out bench/out/length [--turns 200] [--conversations 3]

Called by `python -m bench.run` (section `length`), which reuses the model it trained.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from bench.common import OUT, PY, fresh_dir, loadavg, percentile, write_json

CYCLE = 20
MARKS = (1, 50, 100, 200)
SEED = 14
PROFILE_RATE = 500  # samples per second

# Where a busy sample goes: the first part whose pattern matches a frame of its stack.
# Order matters: rebuilding the tracker happens inside the store's read.
RASA_PARTS: List[Tuple[str, str]] = [
    ("rebuilding the tracker from the events", r"^from_dict \(rasa/shared/core/trackers\.py"),
    ("reading the events from the store", r"^_retrieve \(rasa/core/tracker_store\.py"),
    ("serialising the tracker for the action server", r"^_action_call_format \(rasa/core/actions/action\.py"),
    ("action server call (HTTP, waiting, checking the reply)", r"^run \(rasa/core/actions/action\.py"),
    ("policy prediction", r"^_predict_next_with_tracker \(rasa/core/processor\.py"),
    ("writing the tracker back", r"^save_tracker \(rasa/core/processor\.py"),
    ("NLU parse", r"^_parse_message_with_graph \(rasa/core/processor\.py"),
]
ACTION_PARTS: List[Tuple[str, str]] = [
    ("SDK parsing the request JSON", r"^load_json \(sanic/request\.py"),
    ("SDK rebuilding the tracker", r"^from_dict \(rasa_sdk/interfaces\.py"),
    ("running the action", r"^run \(rasa_sdk/executor\.py"),
]
BUSY = re.compile(r"handle_request|webhook \(rasa_sdk/endpoint\.py")


# --------------------------------------------------------------------------- messages


def cycles(messages: Sequence[str], n: int) -> List[List[str]]:
    """n cycles of CYCLE messages, each drawn without replacement with a fixed seed."""
    rng = random.Random(SEED)
    return [rng.sample(list(messages), CYCLE) for _ in range(n)]


def _turn(url: str, sender: str, text: str, timeout: float = 60.0) -> float:
    body = json.dumps({"sender": sender, "message": text}, ensure_ascii=False).encode()
    req = urllib.request.Request(
        url.rstrip("/") + "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"turn failed: HTTP {resp.status}")
    return (time.perf_counter() - t0) * 1000


def conversation(url: str, sender: str, cycle: Sequence[str], turns: int, between=None) -> List[float]:
    """One conversation; `between(t)` runs before turn t (1-based) and is not timed."""
    out = []
    for t in range(1, turns + 1):
        if between:
            between(t)
        out.append(_turn(url, sender, cycle[(t - 1) % len(cycle)]))
    return out


def window(values: Sequence[float], t: int) -> List[float]:
    """The CYCLE turns ending at turn t (turns 1..CYCLE for t < CYCLE)."""
    hi = max(t, CYCLE)
    return list(values[hi - CYCLE : hi])


# --------------------------------------------------------------------------- request size


class RecordingProxy:
    """Forwards the action server's webhook and counts the request bytes Rasa sends it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.calls: List[int] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    proxy.calls.append(len(body))
                req = urllib.request.Request(
                    proxy.upstream,
                    data=body,
                    headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
                )
                try:
                    with urllib.request.urlopen(req, timeout=60) as resp:
                        status, data, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "")
                except urllib.error.HTTPError as e:  # the action server's own error reply goes back as is
                    status, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
                self.send_response(status)
                self.send_header("Content-Type", ctype or "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def taken(self) -> List[int]:
        with self._lock:
            out, self.calls = self.calls, []
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- profile


def _stacks(path: Path) -> Iterator[Tuple[List[str], int]]:
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rstrip().rpartition(" ")
        if stack and n.isdigit():
            yield stack.split(";"), int(n)


def split(
    paths: Sequence[Path], parts: Sequence[Tuple[str, str]], turns: int, rate: int = PROFILE_RATE
) -> Dict[str, Any]:
    """Milliseconds per turn of each part (busy samples only; each sample counted once)."""
    rx = [(label, re.compile(p)) for label, p in parts]
    counts = {label: 0 for label, _ in parts}
    counts["other"] = 0
    busy = 0
    for path in paths:
        for frames, n in _stacks(path):
            if not any(BUSY.search(f) for f in frames):
                continue
            busy += n
            label = next((lb for lb, r in rx if any(r.search(f) for f in frames)), "other")
            counts[label] += n
    per_turn = 1000.0 / rate / turns if turns else 0.0
    return {"busy_ms_per_turn": busy * per_turn, "parts": {k: v * per_turn for k, v in counts.items()}, "samples": busy}


class Spy:
    """py-spy attached to a set of processes until stopped (SIGINT makes it write its file)."""

    def __init__(self, exe: str, pids: Dict[str, int], out: Path, tag: str) -> None:
        self.files: Dict[str, Path] = {}
        self.procs: List[subprocess.Popen] = []
        for name, pid in pids.items():
            raw = out / f"{tag}-{name}.txt"
            self.files[name] = raw
            self.procs.append(
                subprocess.Popen(
                    [
                        exe,
                        "record",
                        "--pid",
                        str(pid),
                        "--rate",
                        str(PROFILE_RATE),
                        "--format",
                        "raw",
                        "--output",
                        str(raw),
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        time.sleep(1.5)  # attached before the first timed turn

    def stop(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()


def _py_spy() -> Optional[str]:
    return shutil.which("py-spy", path=str(Path(PY).parent) + os.pathsep + os.environ.get("PATH", ""))


def profile_windows(running, cycle_list: List[List[str]], turns: int, out: Path, label: str) -> Dict[str, Any]:
    """py-spy over turns 1..CYCLE and turns turns-CYCLE+1..turns of each conversation."""
    exe = _py_spy()
    if not exe:
        return {"available": False, "reason": "py-spy is not installed (requirements-dev.txt)"}
    pids = running.pids()
    windows = {"start": (1, CYCLE), "end": (turns - CYCLE + 1, turns)}
    files: Dict[str, Dict[str, List[Path]]] = {w: {n: [] for n in pids} for w in windows}
    for i, cycle in enumerate(cycle_list):
        spy: Dict[str, Optional[Spy]] = {"cur": None}

        def between(t: int, i: int = i, spy: Dict[str, Optional[Spy]] = spy) -> None:
            for w, (lo, hi) in windows.items():
                if t == lo:
                    spy["cur"] = Spy(exe, pids, out, f"{label}-{w}-{i}")
                if t == hi + 1 and spy["cur"]:
                    spy["cur"].stop()
                    for n, f in spy["cur"].files.items():
                        files[w][n].append(f)
                    spy["cur"] = None

        conversation(running.url, f"{label}-profile-{i}", cycle, turns, between)
        if spy["cur"]:  # the end window closes after the last turn
            spy["cur"].stop()
            for n, f in spy["cur"].files.items():
                files["end"][n].append(f)
    n_turns = CYCLE * len(cycle_list)
    res: Dict[str, Any] = {
        "available": True,
        "rate": PROFILE_RATE,
        "turns_per_window": n_turns,
        "windows": {w: list(v) for w, v in windows.items()},
    }
    for w in windows:
        res[w] = {
            "rasa": split([f for f in files[w]["rasa"] if f.exists()], RASA_PARTS, n_turns),
            "action_server": split([f for f in files[w].get("action_server", []) if f.exists()], ACTION_PARTS, n_turns),
        }
    return res


# --------------------------------------------------------------------------- one setting


def measure_setting(
    bot,
    segment_turns: Optional[int],
    messages: Sequence[str],
    out: Path,
    turns: int,
    conversations: int,
    profile_conversations: int,
    log=print,
) -> Dict[str, Any]:
    from bench.serve import start

    label = "segments-off" if segment_turns == 0 else "segments-on"
    env = {} if segment_turns is None else {"TRACKER_SEGMENT_TURNS": str(segment_turns)}
    logs = out / "logs"
    r: Dict[str, Any] = {"label": label, "env": env, "turns": turns}
    drawn = cycles(messages, conversations + 1 + profile_conversations)
    lat_cycles, size_cycle, prof_cycles = drawn[:conversations], drawn[conversations], drawn[conversations + 1 :]

    running = start(bot, logs, label, messages[0], env)
    try:
        for i in range(3):  # warm-up: lazy imports and caches paid before measuring
            conversation(running.url, f"{label}-warm-{i}", lat_cycles[0], CYCLE)
        r["latency"] = [conversation(running.url, f"{label}-long-{i}", c, turns) for i, c in enumerate(lat_cycles)]
        r["loadavg_after_latency"] = loadavg()
        log(f"length {label}: {conversations} x {turns} turns done")
        r["profile"] = profile_windows(running, prof_cycles, turns, out, label)
        r["memory_after"] = running.memory()
    finally:
        running.stop()

    # Request size: the same server behind a recording proxy (its latency is not measured).
    proxy_box: Dict[str, RecordingProxy] = {}

    def via_proxy(real: str) -> str:
        proxy_box["p"] = RecordingProxy(real)
        return proxy_box["p"].url

    running = start(bot, logs, f"{label}-size", messages[0], env, action_url=via_proxy)
    try:
        proxy = proxy_box["p"]
        proxy.taken()
        sizes: List[List[int]] = []

        def between(t: int) -> None:
            if t > 1:
                sizes.append(proxy.taken())

        conversation(running.url, f"{label}-size", size_cycle, turns, between)
        sizes.append(proxy.taken())
        r["request_bytes"] = [sum(s) for s in sizes]
        r["request_calls"] = [len(s) for s in sizes]
    finally:
        running.stop()
        if "p" in proxy_box:
            proxy_box["p"].close()
    return r


def summarise(r: Dict[str, Any]) -> Dict[str, Any]:
    """Per mark: median latency at the turn, windowed median, windowed median request size."""
    lat = r["latency"]
    turns = r["turns"]
    marks = [t for t in MARKS if t <= turns] + ([turns] if turns not in MARKS else [])
    pooled = [x for conv in lat for x in conv]
    rows = []
    for t in marks:
        win = [x for conv in lat for x in window(conv, t)]
        size_win = window(r["request_bytes"], t)
        rows.append(
            {
                "turn": t,
                "at_ms": statistics.median(conv[t - 1] for conv in lat),
                "window_ms": statistics.median(win),
                "window_p95_ms": percentile(win, 95),
                "request_bytes_window_median": statistics.median(size_win),
                "request_bytes_window_max": max(size_win),
            }
        )
    return {
        "rows": rows,
        "ratio_last_first": rows[-1]["window_ms"] / rows[0]["window_ms"],
        "p50_ms": percentile(pooled, 50),
        "p95_ms": percentile(pooled, 95),
        "turns_measured": len(pooled),
        "request_bytes_max": max(r["request_bytes"]),
    }


def length_section(
    bot,
    out: Path,
    messages: Sequence[str],
    turns: int = 200,
    conversations: int = 3,
    profile_conversations: int = 2,
    log=print,
) -> Dict[str, Any]:
    """Both settings, segments off first (the 'before'), then the shipped default."""
    out = fresh_dir(out)
    res: Dict[str, Any] = {
        "turns": turns,
        "conversations": conversations,
        "cycle": CYCLE,
        "seed": SEED,
        "messages": len(messages),
        "settings": {},
    }
    for seg in (0, None):
        r = measure_setting(bot, seg, messages, out, turns, conversations, profile_conversations, log)
        r["summary"] = summarise(r)
        res["settings"][r["label"]] = r
        s = r["summary"]
        log(
            f"length {r['label']}: turn {turns} / turn 1 = {s['ratio_last_first']:.2f}x (windowed), "
            f"p95 {s['p95_ms']:.1f} ms, max request {s['request_bytes_max'] / 1024:.0f} KiB"
        )
    write_json(out / "result.json", res)
    return res


def main() -> None:
    import tempfile

    from bench.run import ours_bot
    from bench.serve import realistic_messages

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT / "length")
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--conversations", type=int, default=3)
    ap.add_argument("--model", type=Path, help="a trained model of this project (default: train one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-length-") as tmp:
        bot = ours_bot(Path(tmp))
        if args.model:
            bot.model = args.model
        else:
            bot.train(Path(tmp) / "train.log")
        length_section(bot, args.out, realistic_messages(), args.turns, args.conversations)


if __name__ == "__main__":
    main()
