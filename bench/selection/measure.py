"""Measure one NLU pipeline config: train time, held-out + 5-fold CV scores, parse latency.

Used to write docs/nlu_model_selection.md. Every step is an ordinary Rasa command
(run as a subprocess, so each step starts cold) except `train` and `latency`,
which are small in-process wrappers:

  train     rasa.model_training.train_nlu with the intent classifier's `train`
            timed (classifier fit time separate from featurisation / start-up).
  latency   Agent.load(model); `await agent.parse_message(text)` for every
            held-out message (10 warm-up parses, then 3 timed passes); also
            records the classifier's own top-2 ranking, to simulate fallback
            thresholds afterwards (bench.selection.fallback).
  cvparses  out-of-fold rankings for every training example (the same 5 folds).
  all       train -> rasa test nlu (held-out) -> latency -> 5-fold CV
            (bench.selection.cv = `rasa test nlu --cross-validation` with
            fixed folds) -> summary.json.

--root: run against a frozen copy of data/, tests/test_nlu.yml, addons/, actions/ (the
repo's data may change while a comparison runs); default: the repository itself. Every
step runs with that folder as its working directory.

Usage: .venv/bin/python -m bench.selection.measure all --config CFG.yml --out OUT/NAME [--root SNAPSHOT]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Tuple

from bench.common import percentile

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
RASA = str(Path(PY).with_name("rasa"))


def _env(out: Path) -> Dict[str, str]:
    return {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONPATH": str(REPO),  # bench.selection from a snapshot folder
        # No training cache: every config pays its own featurisation, train times compare.
        "RASA_CACHE_DIRECTORY": str(out / "rasa-cache"),
        "RASA_MAX_CACHE_SIZE": "0",
    }


def cmd_train(args: argparse.Namespace) -> None:
    from rasa.model_training import train_nlu
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    info: Dict[str, Any] = {"fit_seconds": None, "n_iter": None, "convergence_warnings": 0}

    def wrap(cls: Any) -> None:
        original = cls.train

        @functools.wraps(original)  # keeps the annotations Rasa's graph validation needs
        def timed(self: Any, training_data: Any, *a: Any, **kw: Any) -> Any:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                t0 = time.perf_counter()
                result = original(self, training_data, *a, **kw)
                info["fit_seconds"] = time.perf_counter() - t0
            info["convergence_warnings"] = sum("converge" in str(w.message).lower() for w in caught)
            clf = getattr(self, "clf", None)
            if clf is not None and hasattr(clf, "n_iter_"):
                info["n_iter"] = [int(x) for x in clf.n_iter_.ravel()][:5]
                info["n_features"] = int(clf.coef_.shape[1])
            return result

        cls.train = timed

    wrap(LogisticRegressionClassifier)
    wrap(DIETClassifier)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model = train_nlu(str(args.config), str(args.root / "data/nlu"), str(out), fixed_model_name="model")
    info["train_nlu_seconds"] = time.perf_counter() - t0
    info["model"] = model
    info["model_bytes"] = os.path.getsize(model)
    (out / "train.json").write_text(json.dumps(info, indent=2))
    print(json.dumps(info))


def heldout_messages(root: Path) -> List[Tuple[str, str]]:
    """(text, gold intent) of every message of tests/test_nlu.yml under `root`."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(root / "tests/test_nlu.yml"))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def quiet_logs() -> None:
    """As in production (log level INFO or above): no per-message debug logging."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)


def ranking_record(result: Dict[str, Any]) -> Dict[str, Any]:
    """The final intent and the classifier's own top 3 (without nlu_fallback) of one parse."""
    ranking = [r for r in result.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
    return {"final": result["intent"]["name"], "top": [[r["name"], r["confidence"]] for r in ranking[:3]]}


def cmd_latency(args: argparse.Namespace) -> None:
    import asyncio

    from rasa.core.agent import Agent

    quiet_logs()
    messages = heldout_messages(args.root)

    async def run() -> Tuple[float, List[float], List[float], List[Dict[str, Any]]]:
        t0 = time.perf_counter()
        agent = Agent.load(str(args.model))
        load_seconds = time.perf_counter() - t0
        for text, _ in messages[:10]:
            await agent.parse_message(text)
        times: List[float] = []
        cpu_times: List[float] = []
        records = []
        for p in range(args.passes):
            for text, gold in messages:
                t, c = time.perf_counter(), time.process_time()
                result = await agent.parse_message(text)
                times.append((time.perf_counter() - t) * 1000)
                cpu_times.append((time.process_time() - c) * 1000)
                if p == 0:
                    records.append({"text": text, "gold": gold, **ranking_record(result)})
        return load_seconds, times, cpu_times, records

    load_seconds, times, cpu_times, records = asyncio.run(run())
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        load_avg = os.getloadavg()
    except OSError:
        load_avg = None
    info = {
        "load_seconds": load_seconds,
        "parses": len(times),
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 95),
        "p99_ms": percentile(times, 99),
        "mean_ms": statistics.fmean(times),
        # CPU time of this process per parse: less sensitive to other jobs on the machine.
        "cpu_p50_ms": statistics.median(cpu_times),
        "cpu_p95_ms": percentile(cpu_times, 95),
        "loadavg_after": load_avg,
    }
    (args.out / "latency.json").write_text(json.dumps(info, indent=2))
    with open(args.out / "parses.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(json.dumps(info))


def cmd_cvparses(args: argparse.Namespace) -> None:
    """Out-of-fold rankings for every training example (5 folds, NumPy seed 42 as in
    bench.selection.cv), to check fallback thresholds on more (and harder) messages."""
    import asyncio
    import tempfile

    import numpy as np

    np.random.seed(42)
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.nlu.test import generate_folds
    from rasa.shared.nlu.training_data.loading import load_data

    quiet_logs()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = load_data(str(args.root / "data/nlu"))
    records = []
    for k, (train, test) in enumerate(generate_folds(5, data)):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "train.yml"
            path.write_text(train.nlu_as_yaml(), encoding="utf-8")
            model = train_nlu(str(args.config), str(path), tmp, fixed_model_name="fold")
            agent = Agent.load(model)

            async def parse_all(fold: int = k, examples: Any = test.intent_examples, agent: Any = agent) -> None:
                for m in examples:
                    result = await agent.parse_message(m.get("text"))
                    records.append(
                        {"fold": fold, "text": m.get("text"), "gold": m.get("intent"), **ranking_record(result)}
                    )

            asyncio.run(parse_all())
    with open(out / "cv_parses.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(records)} out-of-fold parses -> {out / 'cv_parses.jsonl'}")


def _report(path: Path) -> Dict[str, Any]:
    r = json.loads(path.read_text(encoding="utf-8"))
    averages = ("macro avg", "weighted avg", "micro avg")
    per_intent = {
        k: v["f1-score"] for k, v in r.items() if isinstance(v, dict) and "support" in v and k not in averages
    }
    return {"accuracy": r["accuracy"], "macro_f1": r["macro avg"]["f1-score"], "per_intent_f1": per_intent}


def _run(cmd: List[str], log: Path, root: Path, out: Path) -> float:
    print("+", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    with open(log, "w") as f:
        subprocess.run(cmd, cwd=root, env=_env(out), stdout=f, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - t0


def cmd_all(args: argparse.Namespace) -> None:
    out, root, config = args.out, args.root, str(args.config)
    out.mkdir(parents=True, exist_ok=True)
    steps = args.steps.split(",")
    me = [PY, "-m", "bench.selection.measure"]
    if "train" in steps:
        _run([*me, "train", "--root", str(root), "--config", config, "--out", str(out)], out / "train.log", root, out)
    model = str(out / "model.tar.gz")
    if "heldout" in steps:
        _run(
            [RASA, "test", "nlu", "--nlu", "tests/test_nlu.yml", "--model", model, "--out", str(out / "heldout")],
            out / "heldout.log",
            root,
            out,
        )
    if "latency" in steps:
        _run([*me, "latency", "--root", str(root), "--model", model, "--out", str(out)], out / "latency.log", root, out)
    if "cv" in steps:
        cv_seconds = _run(
            [
                PY,
                "-m",
                "bench.selection.cv",
                "--seed",
                "42",
                "--",
                "test",
                "nlu",
                "--nlu",
                "data/nlu",
                "--cross-validation",
                "--folds",
                "5",
                "--config",
                config,
                "--out",
                str(out / "cv"),
            ],
            out / "cv.log",
            root,
            out,
        )
        (out / "cv_seconds.txt").write_text(f"{cv_seconds:.1f}\n")
    summarise(out)


def summarise(out: Path) -> Dict[str, Any]:
    s: Dict[str, Any] = {"name": out.name}
    for name in ("train", "latency"):
        p = out / f"{name}.json"
        if p.exists():
            s[name] = json.loads(p.read_text())
    if (out / "heldout/intent_report.json").exists():
        s["heldout"] = _report(out / "heldout/intent_report.json")
    if (out / "cv/intent_report.json").exists():
        s["cv"] = _report(out / "cv/intent_report.json")
        log = (out / "cv.log").read_text(errors="replace")
        m = re.search(
            r"Intent evaluation results.*?test accuracy: ([\d.]+) \(([\d.]+)\).*?"
            r"test F1-score: ([\d.]+) \(([\d.]+)\)",
            log,
            re.S | re.I,
        )
        if m:
            s["cv"]["fold_accuracy_mean_std"] = [float(m.group(1)), float(m.group(2))]
            s["cv"]["fold_f1_mean_std"] = [float(m.group(3)), float(m.group(4))]
        if (out / "cv_seconds.txt").exists():
            s["cv"]["seconds"] = float((out / "cv_seconds.txt").read_text())
    (out / "summary.json").write_text(json.dumps(s, indent=2, ensure_ascii=False))
    return s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name, inputs in (
        ("train", ["--config"]),
        ("latency", ["--model"]),
        ("cvparses", ["--config"]),
        ("all", ["--config"]),
        ("summary", []),
    ):
        p = sub.add_parser(name)
        for flag in inputs:
            p.add_argument(flag, required=True, type=lambda x: Path(x).resolve())
        p.add_argument("--out", required=True, type=lambda x: Path(x).resolve())
        p.add_argument(
            "--root",
            default=REPO,
            type=lambda x: Path(x).resolve(),
            help="folder with data/nlu, tests/test_nlu.yml and addons/ (default: this repository)",
        )
        if name == "latency":
            p.add_argument("--passes", type=int, default=3)
        if name == "all":
            p.add_argument("--steps", default="train,heldout,latency,cv")
    args = parser.parse_args()
    # the config's relative paths and custom components (addons.*) resolve against the root
    os.chdir(args.root)
    sys.path.insert(0, str(args.root))
    if args.cmd == "summary":
        print(json.dumps(summarise(args.out), indent=2, ensure_ascii=False))
    else:
        {"train": cmd_train, "latency": cmd_latency, "cvparses": cmd_cvparses, "all": cmd_all}[args.cmd](args)


if __name__ == "__main__":
    main()
