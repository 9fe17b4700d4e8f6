"""Train, start and measure a bot: training time, start-up time, memory, REST load.

A bot is a Rasa project folder. Ours is the repository; the reference is the
starter bot `rasa init` creates. Both are trained from scratch (Rasa's cache
off) and served on loopback ports chosen at run time, so a server already
running on 5005/5055 (e.g. `make run`) is never touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from bench.common import PY, RASA, ROOT, free_port, run

HOST = "127.0.0.1"


@dataclass
class Bot:
    name: str
    project: Path  # folder with config.yml, domain.yml, data/
    model: Path  # where the trained model goes
    endpoints: Path
    credentials: Path
    env: Dict[str, str]
    action_server: bool = False
    data: Optional[Path] = None  # training data folder (default: project/data)
    launcher: Optional[List[str]] = None  # command that replaces `rasa` for `rasa run` (experiments)
    train_seconds: Optional[float] = None

    def train(self, log: Path) -> float:
        self.model.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            RASA,
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain.yml",
            "--data",
            str(self.data or (self.project / "data")),
            "--out",
            str(self.model.parent),
            "--fixed-model-name",
            self.model.name[: -len(".tar.gz")],
        ]
        self.train_seconds = run(cmd, log, self.env, cwd=self.project)
        return self.train_seconds


def _get(url: str, timeout: float = 1.0) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status


def _wait_http(url: str, proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited during start-up (code {proc.returncode}); see its log")
        try:
            if _get(url) == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout:.0f} s")


def _proc_rss(pid: int) -> int:
    """Linux without psutil: VmRSS from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _proc_children(pid: int) -> List[int]:
    out: List[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out + [g for c in out for g in _proc_children(c)]


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (bytes): psutil, or /proc on Linux."""
    try:
        import psutil
    except ImportError:
        return _proc_rss(pid) + sum(_proc_rss(c) for c in _proc_children(pid))
    p = psutil.Process(pid)
    total = p.memory_info().rss
    for c in p.children(recursive=True):
        try:
            total += c.memory_info().rss
        except psutil.Error:
            pass
    return total


class MemorySampler:
    """Samples the RSS of some processes every `interval` s in a thread; keeps the peak."""

    def __init__(self, pids: Dict[str, int], interval: float = 0.25) -> None:
        self.pids = pids
        self.interval = interval
        self.peak: Dict[str, int] = {k: 0 for k in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for k, pid in self.pids.items():
                try:
                    self.peak[k] = max(self.peak[k], rss_bytes(pid))
                except Exception:  # noqa: BLE001 - process gone
                    pass
            self._stop.wait(self.interval)

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Running:
    bot: Bot
    rasa: subprocess.Popen
    port: int
    actions: Optional[subprocess.Popen] = None
    action_port: Optional[int] = None
    startup_seconds: float = 0.0
    first_turn_ms: float = 0.0
    logs: List[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def memory(self) -> Dict[str, Optional[int]]:
        return {
            "rasa_rss_bytes": rss_bytes(self.rasa.pid),
            "action_server_rss_bytes": rss_bytes(self.actions.pid) if self.actions else None,
        }

    def pids(self) -> Dict[str, int]:
        p = {"rasa": self.rasa.pid}
        if self.actions:
            p["action_server"] = self.actions.pid
        return p

    def stop(self) -> None:
        for proc in (self.rasa, self.actions):
            if proc is None or proc.poll() is not None:
                continue
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def start(
    bot: Bot,
    log_dir: Path,
    tag: str,
    first_message: str,
    extra_env: Optional[Dict[str, str]] = None,
    action_url: Optional[Callable[[str], str]] = None,
) -> Running:
    """Start the action server (if the bot has one), then `rasa run`; time the start-up.

    Start-up time = from spawning `rasa run` to its first HTTP 200 on `GET /`
    (Rasa opens its port only after the model is loaded). The action server is
    started and healthy before the clock starts. `action_url` maps the action
    server's URL to the one Rasa calls (bench/length.py puts a recording proxy there).
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**bot.env, **(extra_env or {})}
    actions = None
    action_port = None
    if bot.action_server:
        action_port = free_port()
        alog = log_dir / f"{tag}-actions.log"
        actions = subprocess.Popen(
            [PY, "-m", "rasa_sdk", "--actions", "actions", "--port", str(action_port)],
            cwd=bot.project,
            env={**env, "SANIC_HOST": HOST},
            stdout=open(alog, "w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_http(f"http://{HOST}:{action_port}/health", actions, 120, "action server")
        env["BENCH_ACTION_URL"] = f"http://{HOST}:{action_port}/webhook"
        if action_url:
            env["BENCH_ACTION_URL"] = action_url(env["BENCH_ACTION_URL"])
    port = free_port()
    rlog = log_dir / f"{tag}-rasa.log"
    endpoints = bot.endpoints
    if bot.action_server:
        endpoints = log_dir / f"{tag}-endpoints.yml"
        endpoints.write_text(
            bot.endpoints.read_text(encoding="utf-8").replace("__ACTION_URL__", env["BENCH_ACTION_URL"]),
            encoding="utf-8",
        )
    t0 = time.perf_counter()
    rasa = subprocess.Popen(
        [
            *(bot.launcher or [RASA]),
            "run",
            "--model",
            str(bot.model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(bot.credentials),
            "--port",
            str(port),
            "--interface",
            HOST,
        ],
        cwd=bot.project,
        env=env,
        stdout=open(rlog, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = Running(bot, rasa, port, actions, action_port, logs=[rlog])
    try:
        _wait_http(f"http://{HOST}:{port}/", rasa, 300, "rasa run")
        running.startup_seconds = time.perf_counter() - t0
        import asyncio

        from bench.load import long_conversation

        running.first_turn_ms = asyncio.run(long_conversation(running.url, [first_message], 1, f"{tag}-first"))[0]
    except Exception:
        running.stop()
        raise
    return running


def write_endpoints_ours(path: Path) -> Path:
    """endpoints.yml with the action server URL left as a placeholder (filled in by `start`)."""
    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    data = y.load((ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    data.setdefault("action_endpoint", {})["url"] = "__ACTION_URL__"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        y.dump(data, f)
    return path


def write_credentials_rest(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# bench: the REST channel only (the channel under load)\nrest:\n", encoding="utf-8")
    return path


def project_messages() -> List[str]:
    """User messages of our load test: every held-out NLU message (tests/test_nlu.yml)."""
    from rasa.shared.nlu.training_data.loading import load_data

    return [m.get("text") for m in load_data(str(ROOT / "tests/test_nlu.yml")).intent_examples]


def advisory_messages() -> List[str]:
    """Held-out messages of the intents data/rules/advice.yml routes to action_give_guidance."""
    from rasa.shared.nlu.training_data.loading import load_data
    from ruamel.yaml import YAML

    rules = YAML(typ="safe", pure=True).load((ROOT / "data/rules/advice.yml").read_text(encoding="utf-8"))
    advisory = set()
    for rule in rules.get("rules", []):
        steps = rule.get("steps", [])
        if len(steps) == 2 and "intent" in steps[0] and steps[1].get("action") == "action_give_guidance":
            advisory.add(steps[0]["intent"])
    return [
        m.get("text")
        for m in load_data(str(ROOT / "tests/test_nlu.yml")).intent_examples
        if m.get("intent") in advisory
    ]


def response_only_messages() -> List[str]:
    """Held-out messages of greet / goodbye / thank / bot_challenge: rules answer them with a domain response."""
    from rasa.shared.nlu.training_data.loading import load_data

    keep = {"greet", "goodbye", "thank", "bot_challenge"}
    return [
        m.get("text") for m in load_data(str(ROOT / "tests/test_nlu.yml")).intent_examples if m.get("intent") in keep
    ]


def starter_messages(project: Path) -> List[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    return [m.get("text") for m in load_data(str(project / "data/nlu.yml")).intent_examples]


def realistic_messages() -> List[str]:
    """Every message of the independent realistic set tests/realistic_nlu.yml (issue 11's load)."""
    from bench.common import realistic_checker

    return [e["text"] for e in realistic_checker().load_examples()]
