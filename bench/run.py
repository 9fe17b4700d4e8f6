"""`make bench`: every accuracy and speed number of docs/benchmarks.md, in one run.

    .venv/bin/python -m bench.run            # everything (what `make bench` runs)
    .venv/bin/python -m bench.run --quick    # a smoke run for development (not the reference numbers)
    .venv/bin/python -m bench.run --only report   # re-write docs/ from bench/out/ without measuring

Sections, in this order (the speed sections run alone on the machine, after
the accuracy jobs have finished):

  nlu      intent classification, 6 pipelines on the held-out set and by 5-fold
           CV (Rasa's default DIET pipeline: held-out only unless --diet-cv),
           every Rasa pipeline also on the realistic set tests/realistic_nlu.yml,
           and the entity held-out set (bench/nlu.py, bench/entities.py);
           these jobs run `--jobs` at a time, one thread each
  ours     this assistant: train, start (x3), REST load at 1/10/50 concurrent
           conversations with the action server running, 1 conversation with the
           realistic set as the load, memory, a 200-turn conversation, a py-spy
           profile, and in-process parse latency of 200-character messages
           (bench/serve.py, bench/load.py, bench/parse_latency.py)
  length   turn cost against conversation length, tracker segments off (before
           issue 14) and on: 3 conversations x 200 turns each, py-spy split of
           early and late turns, request size to the action server (bench/length.py)
  starter  the same for the starter bot of `rasa init`, the reference
  fixes    our bot with the speed fixes the profile found taken out again
           (bench/fixes.py), Rasa's floor, and 2 workers + Redis; same loads
  scale    1x / 2x / 4x the NLU training data: training time, model size,
           start-up, memory, single-conversation latency (bench/scale.py)
  report   docs/benchmarks.md and docs/img/bench_*.png (bench/report.py, prose in bench/report_template.md.j2)

Raw results: bench/out/ (gitignored). Nothing is cached between runs: every
model is trained from scratch with Rasa's cache off, in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    OUT,
    PY,
    ROOT as _ROOT,
    bench_env,
    fresh_dir,
    loadavg,
    machine_info,
    read_json,
    run,
    write_json,
)

SECTIONS = ["nlu", "ours", "length", "starter", "fixes", "scale", "report"]
# One DIET training on ~4000 examples, one thread, next to another job on 2 shared cores took over
# 30 minutes (bench.common.run's default timeout): the accuracy jobs get more time.
NLU_JOB_TIMEOUT = 4 * 3600
CONCURRENCY = [1, 10, 50]
TARGETS = {
    "p95_single_ms": 40.0,
    "throughput_ratio_10": 4.0,
    "startup_s": 25.0,
    "rasa_rss_gb": 1.0,
}


def _cpu() -> float:
    """CPU seconds (user + system) of this process and every finished child process so far."""
    import resource

    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --------------------------------------------------------------------------- settings


class Settings:
    def __init__(self, args: argparse.Namespace) -> None:
        quick = args.quick
        self.quick = quick
        self.folds = args.folds if args.folds is not None else (0 if quick else 5)
        self.jobs = args.jobs
        self.diet_cv = args.diet_cv
        self.duration = args.duration if args.duration is not None else (5.0 if quick else 15.0)
        self.warmup = 1.0 if quick else 2.0
        self.startups = {"ours": 1 if quick else 3, "starter": 1 if quick else 2}
        self.tracker_turns = 50 if quick else 200
        self.tracker_runs = {"ours": 1 if quick else 2, "starter": 1}
        self.scale_factors = [1, 2] if quick else [1, 2, 4]
        self.profile = args.profile
        self.profile_seconds = 8.0 if quick else 15.0
        self.turns_per_conversation = 8
        # Issue 14 (bench/length.py): conversations of this length, segments off and on
        self.length_turns = 40 if quick else 200
        self.length_conversations = 1 if quick else 3

    def as_dict(self) -> Dict[str, Any]:
        return dict(self.__dict__)


# --------------------------------------------------------------------------- nlu


def nlu_section(out: Path, tmp: Path, s: Settings) -> None:
    """Every pipeline variant's held-out + CV jobs, `s.jobs` processes at a time."""
    from bench.nlu import VARIANTS, merge

    nout = fresh_dir(out / "nlu")
    single = s.jobs > 1
    threads = (
        {
            k: "1"
            for k in (
                "TF_INTRA_OP_PARALLELISM_THREADS",
                "TF_INTER_OP_PARALLELISM_THREADS",
                "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS",
            )
        }
        if single
        else {}
    )
    env = bench_env(tmp, **threads)
    nlu = [PY, "-m", "bench.nlu", "--folds", str(s.folds), "--out", str(nout)]
    folds = [str(i) for i in range(s.folds)] if s.folds > 1 else []
    # (estimated cost, name, commands): longest first, so that the pool ends together.
    tasks: List[Tuple[float, str, List[List[str]]]] = []
    # DIET (Rasa's default pipeline): one process per fold, ~4-5 CPU-minutes each. Its cross-validation
    # (5 more trainings, ~22 CPU-min) only with --diet-cv: with it `make bench` does not fit in 30 min on 2 cores.
    for fold in ["heldout"] + (folds if s.diet_cv else []):
        tasks.append((200.0, f"default_jieba-{fold}", [nlu + ["--variant", "default_jieba", "--fold", fold]]))
    chosen_model = nout / "chosen" / "model.tar.gz"
    tasks.append(
        (
            25.0 * (1 + len(folds)),
            "chosen",
            [
                nlu + ["--variant", "chosen", "--fold", "all", "--keep-model"],
                [PY, "-m", "bench.entities", "--model", str(chosen_model), "--out", str(out / "entities")],
            ],
        )
    )
    tasks.append((25.0 * (1 + len(folds)), "no_normalizer", [nlu + ["--variant", "no_normalizer", "--fold", "all"]]))
    # Today's pipeline before issue 11's question focus: the reference of the focus decision (report 1.5).
    tasks.append((25.0 * (1 + len(folds)), "no_focus", [nlu + ["--variant", "no_focus", "--fold", "all"]]))
    # A user dictionary changes jieba's cuts for the entity extractor too: score its entities as well.
    tasks.append(
        (
            25.0 * (1 + len(folds)),
            "userdict",
            [
                nlu + ["--variant", "userdict", "--fold", "all", "--keep-model"],
                [
                    PY,
                    "-m",
                    "bench.entities",
                    "--model",
                    str(nout / "userdict" / "model.tar.gz"),
                    "--out",
                    str(out / "entities_userdict"),
                ],
            ],
        )
    )
    tasks.append((10.0, "sklearn_baseline", [nlu + ["--variant", "sklearn_baseline", "--fold", "all"]]))
    tasks.sort(key=lambda t: -t[0])

    def work(task) -> Tuple[str, float]:
        _, name, cmds = task
        t0 = time.perf_counter()
        for i, cmd in enumerate(cmds):
            run(cmd, nout / "logs" / f"{name}-{i}.log", env, timeout=NLU_JOB_TIMEOUT)
        return name, time.perf_counter() - t0

    t0 = time.perf_counter()
    timings = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=s.jobs) as pool:
        futures = [pool.submit(work, t) for t in tasks]  # submitted longest first
        for fut in concurrent.futures.as_completed(futures):
            name, seconds = fut.result()
            timings[name] = seconds
            log(f"nlu job {name}: {seconds:.0f} s")
    results = {v: merge(nout, v, s.folds) for v in VARIANTS}
    write_json(
        nout / "results.json",
        {
            "variants": results,
            "folds": s.folds,
            "jobs": s.jobs,
            "seconds": time.perf_counter() - t0,
            "job_seconds": timings,
            "commands": {
                "job": "python -m bench.nlu --variant VARIANT --fold heldout|0..4 --folds 5 --out bench/out/nlu",
                "entities": (
                    "python -m bench.entities --model bench/out/nlu/chosen/model.tar.gz --out bench/out/entities"
                ),
            },
        },
    )
    for v, r in results.items():
        h, cv, real = r["heldout"], r.get("cv") or {}, r.get("realistic")
        log(
            f"{v:18s} held-out acc {h['accuracy']:.4f} F1 {h['macro_f1']:.4f}"
            + (f" | CV acc {cv['accuracy']:.4f} F1 {cv['macro_f1']:.4f}" if cv else "")
            + (f" | realistic acc {real['accuracy']:.4f}" if real else "")
        )


# --------------------------------------------------------------------------- serving


def _profile(running, seconds: float, out: Path, messages: List[str], s: Settings) -> Dict[str, Any]:
    """py-spy on the Rasa server and the action server during a single-conversation load."""
    from bench.load import run_load
    from bench.profile import summarise

    spy = shutil.which("py-spy", path=str(Path(PY).parent) + os.pathsep + os.environ.get("PATH", ""))
    if not spy:
        return {"available": False, "reason": "py-spy is not installed (pip install py-spy)"}
    procs = {}
    for name, pid in running.pids().items():
        raw = out / f"profile-{name}.txt"
        procs[name] = (
            raw,
            subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(int(seconds)),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            ),
        )
    time.sleep(1.0)
    load = asyncio.run(run_load(running.url, messages, 1, seconds - 2, 0.5, s.turns_per_conversation, prefix="profile"))
    result: Dict[str, Any] = {
        "available": True,
        "seconds": seconds,
        "load_under_profiler": load,
        "command": f"py-spy record --pid PID --duration {int(seconds)} --rate 200 --format raw --nonblocking",
    }
    for name, (raw, proc) in procs.items():
        try:
            _, err = proc.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if proc.returncode != 0 or not raw.exists():
            result[name] = {"error": (err or b"").decode(errors="replace")[-500:]}
        else:
            result[name] = summarise(raw)
    return result


def measure_loads(
    running, messages: List[str], s: Settings, label: str, keepalive: bool = True
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """A few dozen warm-up turns, then the closed-loop load at each concurrency, peak RSS sampled during each."""
    from bench.load import run_load
    from bench.serve import MemorySampler

    warm = asyncio.run(
        run_load(
            running.url,
            messages,
            4,
            4.0 if s.quick else 8.0,
            0.0,
            s.turns_per_conversation,
            prefix="warm",
            keepalive=keepalive,
        )
    )
    loads: Dict[str, Any] = {}
    for c in CONCURRENCY:
        with MemorySampler(running.pids()) as mem:
            res = asyncio.run(
                run_load(
                    running.url,
                    messages,
                    c,
                    s.duration,
                    s.warmup,
                    s.turns_per_conversation,
                    prefix=f"{label}-load",
                    keepalive=keepalive,
                )
            )
        res["peak_rss_bytes"] = mem.peak
        res["loadavg_after"] = loadavg()
        loads[str(c)] = res
        log(
            f"{label}: c={c}: {res['turns']} turns, {res['throughput_tps']:.1f}/s, p50 {res['p50_ms']:.0f} "
            f"p95 {res['p95_ms']:.0f} p99 {res['p99_ms']:.0f} ms, errors {res['errors']}, "
            f"Rasa RSS {mem.peak.get('rasa', 0) / 2**20:.0f} MiB"
        )
    return warm, loads


def serve_section(
    name: str,
    bot,
    messages: List[str],
    long_messages: List[str],
    out: Path,
    s: Settings,
    profile: str = "never",
    realistic: Optional[List[str]] = None,
    parse_latency: bool = False,
) -> Dict[str, Any]:
    """Train the bot, start it, load it, measure it.

    `realistic`: messages of one more single-conversation load (issue 11: the realistic set).
    `parse_latency`: also time the model's parse of 200-character messages in-process, server stopped.
    """
    from bench.load import long_conversation, run_load
    from bench.serve import start

    sout = fresh_dir(out / name)
    logs = sout / "logs"
    r: Dict[str, Any] = {"name": name, "messages": len(messages)}
    log(f"{name}: rasa train (cache off)")
    r["train_seconds"] = bot.train(logs / "train.log")
    r["model_bytes"] = bot.model.stat().st_size
    r["train_loadavg_after"] = loadavg()
    log(f"{name}: trained in {r['train_seconds']:.1f} s; starting")
    running = start(bot, logs, f"{name}-1", messages[0])
    try:
        r["startup_seconds"] = [running.startup_seconds]
        r["first_turn_ms"] = running.first_turn_ms
        r["memory_idle"] = running.memory()
        log(f"{name}: up in {running.startup_seconds:.1f} s, first turn {running.first_turn_ms:.0f} ms")
        # Warm-up: a few dozen turns so that lazy imports and caches are paid before measuring.
        r["warmup"], r["load"] = measure_loads(running, messages, s, name)
        r["memory_after_load"] = running.memory()
        if realistic:
            res = asyncio.run(
                run_load(
                    running.url,
                    realistic,
                    1,
                    s.duration,
                    s.warmup,
                    s.turns_per_conversation,
                    prefix=f"{name}-realistic",
                )
            )
            res["messages"] = len(realistic)
            r["load_realistic"] = {"1": res}
            log(
                f"{name}: realistic set, c=1: {res['turns']} turns, p50 {res['p50_ms']:.0f} p95 {res['p95_ms']:.0f} "
                f"p99 {res['p99_ms']:.0f} ms, errors {res['errors']}"
            )
        r["tracker"] = []
        for i in range(s.tracker_runs[name]):
            lat = asyncio.run(long_conversation(running.url, long_messages, s.tracker_turns, f"{name}-long-{i}"))
            r["tracker"].append(lat)
        r["memory_after_tracker"] = running.memory()
        log(f"{name}: {s.tracker_runs[name]} x {s.tracker_turns}-turn conversation done")
        if profile == "always" or (profile == "auto" and _misses_target(r)):
            log(f"{name}: profiling with py-spy ({s.profile_seconds:.0f} s, single conversation)")
            r["profile"] = _profile(running, s.profile_seconds, sout, messages, s)
    finally:
        running.stop()
    for i in range(2, s.startups[name] + 1):
        again = start(bot, logs, f"{name}-{i}", messages[0])
        r["startup_seconds"].append(again.startup_seconds)
        r.setdefault("memory_idle_restarts", []).append(again.memory())
        again.stop()
    log(f"{name}: start-up {', '.join(f'{x:.1f}' for x in r['startup_seconds'])} s")
    if parse_latency:
        # Its own process, with no server running: Agent.parse_message of the trained model, warm.
        lat_path = sout / "parse_latency.json"
        run(
            [PY, "-m", "bench.parse_latency", "--model", str(bot.model), "--out", str(lat_path)],
            logs / "parse_latency.log",
            bot.env,
        )
        r["parse_latency"] = read_json(lat_path)
        c200 = r["parse_latency"]["chars200"]
        log(
            f"{name}: parse of {c200['n']} x 200-character messages: p50 {c200['p50_ms']:.1f} "
            f"p95 {c200['p95_ms']:.1f} ms"
        )
    write_json(sout / "result.json", r)
    return r


def ours_bot(tmp: Path, model_name: str = "ours", data: Optional[Path] = None):
    from bench.serve import Bot, write_credentials_rest, write_endpoints_ours

    env = bench_env(tmp, TRACKER_DB_URL=f"sqlite:///{tmp}/{model_name}-tracker.db")
    return Bot(
        name=model_name,
        project=_ROOT,
        model=tmp / "models" / f"{model_name}.tar.gz",
        endpoints=write_endpoints_ours(tmp / f"{model_name}-endpoints.yml"),
        credentials=write_credentials_rest(tmp / "credentials-rest.yml"),
        env=env,
        action_server=True,
        data=data,
        launcher=[PY, "-m", "addons.rasa_cli"],  # `rasa` with addons.server_hooks, as `make run` serves it
    )


def starter_bot(tmp: Path):
    """The project `rasa init` creates (its files, untouched), without the training `rasa init` starts."""
    from bench.serve import Bot, write_credentials_rest

    project = tmp / "starter"
    env = bench_env(tmp)
    project.mkdir(parents=True)
    # `rasa init --no-prompt --init-dir DIR` = create_initial_project(DIR) + `rasa train`;
    # the training is run (and timed) by Bot.train, as for our bot.
    subprocess.run(
        [
            PY,
            "-c",
            "import sys; from rasa.cli.scaffold import create_initial_project; create_initial_project(sys.argv[1])",
            str(project),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return Bot(
        name="starter",
        project=project,
        model=tmp / "models" / "starter.tar.gz",
        endpoints=project / "endpoints.yml",
        credentials=write_credentials_rest(tmp / "credentials-rest.yml"),
        env=env,
        action_server=False,
    )


def fixes_section(out: Path, tmp: Path, s: Settings, each: bool) -> Dict[str, Any]:
    """Our bot without the fixes of bench/fixes.py: start-up, the same loads, memory (and each fix taken out alone)."""
    from bench.fixes import FIXES
    from bench.load import run_load
    from bench.serve import project_messages, response_only_messages, start

    sout = fresh_dir(out / "fixes")
    bot = ours_bot(tmp, "ours-fixes")
    model = tmp / "models" / "ours.tar.gz"
    if model.exists():
        bot.model = model  # the model the `ours` section trained in this run
    else:
        bot.train(sout / "logs" / "train.log")
    bot.launcher = [PY, "-m", "bench.fixes"]
    messages = project_messages()
    env = {"BENCH_UNDO": ",".join(FIXES)}
    r: Dict[str, Any] = {"fixes": list(FIXES), "env": env, "load": {}}
    log(f"fixes: the project without {', '.join(FIXES)}")
    running = start(bot, sout / "logs", "fixes", messages[0], env)
    try:
        r["startup_seconds"] = running.startup_seconds
        r["first_turn_ms"] = running.first_turn_ms
        r["memory_idle"] = running.memory()
        _, r["load"] = measure_loads(running, messages, s, "fixes")
    finally:
        running.stop()
    # Rasa's floor on this machine: the same model, conversations in memory, only messages that
    # rules answer with a domain response (no action server call, no database).
    floor_endpoints = tmp / "floor-endpoints.yml"
    floor_endpoints.write_text(
        'action_endpoint:\n  url: "__ACTION_URL__"\nnlg:\n  type: addons.script_nlg.ScriptAwareNLG\n', encoding="utf-8"
    )
    floor = ours_bot(tmp, "ours-floor")
    floor.model, floor.endpoints = bot.model, floor_endpoints
    simple = response_only_messages()
    running = start(floor, sout / "logs", "floor", simple[0])
    try:
        asyncio.run(run_load(running.url, simple, 4, 4.0, 0.0, s.turns_per_conversation, prefix="warm"))
        r["floor"] = {"messages": len(simple), "load": {}}
        for c in (1, 10):
            r["floor"]["load"][str(c)] = asyncio.run(
                run_load(running.url, simple, c, s.duration, s.warmup, s.turns_per_conversation, prefix="floor")
            )
        log(f"floor: c=10 {r['floor']['load']['10']['throughput_tps']:.1f}/s")
    finally:
        running.stop()
    r["workers"] = workers_experiment(tmp, sout, messages, s)
    if each:
        r["each"] = {}
        for label in FIXES:
            running = start(bot, sout / "logs", f"fixes-without-{label}", messages[0], {"BENCH_UNDO": label})
            try:
                asyncio.run(run_load(running.url, messages, 4, 8.0, 0.0, s.turns_per_conversation, prefix="warm"))
                r["each"][label] = asyncio.run(
                    run_load(
                        running.url, messages, 1, s.duration, s.warmup, s.turns_per_conversation, prefix=f"each-{label}"
                    )
                )
                log(f"fixes {label}: p50 {r['each'][label]['p50_ms']:.0f} p95 {r['each'][label]['p95_ms']:.0f} ms")
            finally:
                running.stop()
    write_json(sout / "result.json", r)
    return r


WORKERS = 2


def workers_experiment(tmp: Path, sout: Path, messages: List[str], s: Settings) -> Dict[str, Any]:
    """Our bot as it is, with SANIC_WORKERS=2 and a Redis lock store (REDIS_URL): the scale-out lever."""
    from bench.serve import start
    from tests.integration.services import ServiceUnavailable, ensure_redis, redis_server

    bot = ours_bot(tmp, "ours-workers")
    model = tmp / "models" / "ours.tar.gz"
    if model.exists():
        bot.model = model
    else:
        bot.train(sout / "logs" / "train-workers.log")
    r: Dict[str, Any] = {"workers": WORKERS, "load": {}}
    try:
        ensure_redis()
        with redis_server() as url:
            running = start(
                bot, sout / "logs", "workers", messages[0], {"SANIC_WORKERS": str(WORKERS), "REDIS_URL": url}
            )
            try:
                r["startup_seconds"] = running.startup_seconds
                r["memory_idle"] = running.memory()
                _, r["load"] = measure_loads(running, messages, s, f"workers={WORKERS}", keepalive=False)
            finally:
                running.stop()
    except ServiceUnavailable as e:
        r["unavailable"] = str(e)
        log(f"workers experiment skipped: {e}")
    return r


def _misses_target(r: Dict[str, Any]) -> bool:
    load1 = (r.get("load") or {}).get("1") or {}
    return (load1.get("p95_ms") or 0) > TARGETS["p95_single_ms"]


def scale_section(out: Path, tmp: Path, s: Settings, ours: Optional[Dict[str, Any]]) -> None:
    from bench.load import run_load
    from bench.scale import write_scaled_data
    from bench.serve import MemorySampler, project_messages, start

    sout = fresh_dir(out / "scale")
    messages = project_messages()
    rows = []
    for k in s.scale_factors:
        log(f"scale: {k}x NLU data")
        row: Dict[str, Any] = {"factor": k}
        if k == 1:
            # The 1x row is measured again here, next to the 2x and 4x rows (same minutes of machine load);
            # its model and training time are those of the `ours` section when it ran in this process.
            bot = ours_bot(tmp, "ours-1x")
            trained = tmp / "models" / "ours.tar.gz"
            if trained.exists() and ours:
                bot.model = trained
                row["train_seconds"] = ours["train_seconds"]
            else:
                row["train_seconds"] = bot.train(sout / "logs" / "train-1x.log")
        else:
            data = write_scaled_data(k, tmp / f"data-{k}x")
            bot = ours_bot(tmp, f"ours-{k}x", data=data)
            row["train_seconds"] = bot.train(sout / "logs" / f"train-{k}x.log")
        row["model_bytes"] = bot.model.stat().st_size
        running = start(bot, sout / "logs", f"scale-{k}x", messages[0])
        try:
            row["startup_seconds"] = running.startup_seconds
            row["memory_idle"] = running.memory()
            asyncio.run(
                run_load(
                    running.url, messages, 4, 4.0 if s.quick else 8.0, 0.0, s.turns_per_conversation, prefix="warm"
                )
            )
            with MemorySampler(running.pids()) as mem:
                row["load"] = asyncio.run(
                    run_load(
                        running.url, messages, 1, s.duration, s.warmup, s.turns_per_conversation, prefix=f"scale{k}"
                    )
                )
            row["peak_rss_bytes"] = mem.peak
        finally:
            running.stop()
        log(
            f"scale {k}x: train {row['train_seconds']:.0f} s, start {row['startup_seconds']:.1f} s, "
            f"p95 {row['load']['p95_ms']:.0f} ms, rss {row['peak_rss_bytes']['rasa'] / 2**20:.0f} MiB"
        )
        rows.append(row)
    from rasa.shared.nlu.training_data.loading import load_data

    base = len(load_data(str(_ROOT / "data/nlu")).training_examples)
    for row in rows:
        row["examples"] = base * row["factor"]
    write_json(sout / "result.json", {"rows": rows})


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke run: no CV, short loads, 1 start-up, no 4x data")
    ap.add_argument("--only", help=f"comma-separated sections out of {','.join(SECTIONS)} (default: all)")
    ap.add_argument("--out", default=str(OUT), help="raw results folder (default bench/out)")
    ap.add_argument(
        "--jobs", type=int, default=2, help="accuracy jobs run at once (default 2 = the cores of the target machine)"
    )
    ap.add_argument("--folds", type=int, default=None, help="k of the cross-validation (default 5; --quick: 0 = none)")
    ap.add_argument(
        "--diet-cv",
        action="store_true",
        help="also cross-validate pipeline (a), Rasa's default DIET pipeline (+~22 CPU-min, ~11 min on 2 cores)",
    )
    ap.add_argument("--duration", type=float, default=None, help="seconds measured per load level (default 15)")
    ap.add_argument(
        "--profile",
        choices=["auto", "always", "never"],
        default="always",
        help="py-spy profile of our server under load: always (default), auto (when the p95 target is missed), never",
    )
    ap.add_argument(
        "--fixes-each", action="store_true", help="also measure each fix taken out alone (4 more server starts)"
    )
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temporary folder (models, logs)")
    ap.add_argument("--no-report", action="store_true", help="do not write docs/")
    ap.add_argument(
        "--docs",
        default=None,
        help="write the report (benchmarks.md, img/) to this folder instead of docs/ "
        "(e.g. to look at a partial run without replacing the committed page)",
    )
    args = ap.parse_args()
    os.chdir(_ROOT)
    sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section(s): {', '.join(sorted(unknown))}")
    s = Settings(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    meta_path = out / "meta.json"
    meta = read_json(meta_path) if (meta_path.exists() and set(sections) != set(SECTIONS)) else {}
    measuring = [x for x in sections if x != "report"]
    if measuring:
        meta.update(machine_info())
        meta["settings"] = s.as_dict()
        meta["command"] = " ".join([Path(PY).name, "-m", "bench.run", *sys.argv[1:]])
        meta["sections_run"] = measuring
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    timing: Dict[str, Dict[str, float]] = {}
    clock = {"wall": time.perf_counter(), "cpu": _cpu()}

    def lap(section: str) -> None:
        now, cpu = time.perf_counter(), _cpu()
        timing[section] = {
            "wall_seconds": now - clock["wall"],
            "cpu_seconds": cpu - clock["cpu"],
            # `--only` keeps the other sections' results: the page says where each comes from
            "date_utc": meta.get("date_utc"),
            "git_commit": meta.get("git_commit"),
        }
        clock.update(wall=now, cpu=cpu)
        wall, cpu_min = timing[section]["wall_seconds"] / 60, timing[section]["cpu_seconds"] / 60
        log(f"{section}: {wall:.1f} min wall, {cpu_min:.1f} CPU-min")

    log(f"sections {', '.join(sections)}; temporary folder {tmp}; raw results {out}")
    try:
        if "nlu" in sections:
            log("nlu: 6 pipelines, held-out + CV + realistic set, entity held-out set")
            nlu_section(out, tmp, s)
            lap("nlu")
        ours = None
        if "ours" in sections:
            from bench.serve import advisory_messages, project_messages, realistic_messages

            ours = serve_section(
                "ours",
                ours_bot(tmp),
                project_messages(),
                advisory_messages(),
                out,
                s,
                profile=args.profile,
                realistic=realistic_messages(),
                parse_latency=True,
            )
            lap("ours")
        if "length" in sections:
            from bench.length import length_section
            from bench.serve import realistic_messages

            bot = ours_bot(tmp)
            if not bot.model.exists():  # `--only length`: the ours section did not train it
                bot.train(tmp / "train-ours.log")
            log(f"length: {s.length_conversations} x {s.length_turns} turns, tracker segments off, then on")
            length_section(bot, out / "length", realistic_messages(), s.length_turns, s.length_conversations, log=log)
            lap("length")
        if "starter" in sections:
            from bench.serve import starter_messages

            bot = starter_bot(tmp)
            msgs = starter_messages(bot.project)
            serve_section("starter", bot, msgs, msgs, out, s)
            lap("starter")
        if "fixes" in sections:
            fixes_section(out, tmp, s, each=args.fixes_each)
            lap("fixes")
        if "scale" in sections:
            if ours is None and (out / "ours/result.json").exists():
                ours = read_json(out / "ours/result.json")
            scale_section(out, tmp, s, ours)
            lap("scale")
    finally:
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if measuring:
        meta["wall_seconds"] = time.perf_counter() - t0
        meta["cpu_seconds"] = _cpu()
        meta.setdefault("sections", {}).update(timing)
        meta["loadavg_at_end"] = loadavg()
        write_json(meta_path, meta)
        log(f"measurements done in {meta['wall_seconds'] / 60:.1f} min")
    if "report" in sections and not args.no_report:
        from bench.common import DOCS
        from bench.report import write_report

        path = write_report(out, Path(args.docs) if args.docs else DOCS)
        log(f"report written: {path}")
    log(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
