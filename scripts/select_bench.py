"""Measure one NLU pipeline config: train time, held-out + 5-fold CV scores, parse latency.

Used to write docs/nlu_model_selection.md. Every step is an ordinary Rasa command
(run as a subprocess, so each step starts cold) except `train` and `latency`,
which are small in-process wrappers:

  train    rasa.model_training.train_nlu with the intent classifier's `train`
           timed (classifier fit time separate from featurisation / start-up).
  latency  Agent.load(model); `await agent.parse_message(text)` for every
           held-out message (10 warm-up parses, then 3 timed passes); also
           records the classifier's own top-2 ranking, to simulate fallback
           thresholds afterwards (scripts/select_fallback.py).
  all      train -> rasa test nlu (held-out) -> latency -> 5-fold CV
           (scripts/select_cv.py = `rasa test nlu --cross-validation` with
           fixed folds) -> summary.json.

Usage: .venv/bin/python scripts/select_bench.py all --config /tmp/cfg.yml --out /tmp/select_nlu/NAME
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

REPO = Path(__file__).resolve().parent.parent
# SELECT_ROOT: run against a frozen copy of data/, tests/test_nlu.yml, addons/, actions/
# (the repo's data changes while the comparison runs); default: the repo itself.
ROOT = Path(os.environ.get("SELECT_ROOT", REPO)).resolve()
PY = sys.executable
sys.path.insert(0, str(ROOT))  # addons.* components
RASA = str(Path(PY).with_name("rasa"))
ENV = {
    **os.environ,
    "PYTHONHASHSEED": "0",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    # No training cache: every config pays its own featurisation, train times compare.
    "RASA_CACHE_DIRECTORY": "/tmp/select_nlu/cache",
    "RASA_MAX_CACHE_SIZE": "0",
}


def _percentile(values, q):
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def cmd_train(args) -> None:
    from rasa.model_training import train_nlu
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    info = {"fit_seconds": None, "n_iter": None, "convergence_warnings": 0}

    def wrap(cls):
        original = cls.train

        @functools.wraps(original)  # keeps the annotations Rasa's graph validation needs
        def timed(self, training_data, *a, **kw):
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
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model = train_nlu(args.config, str(ROOT / "data/nlu"), str(out), fixed_model_name="model")
    info["train_nlu_seconds"] = time.perf_counter() - t0
    info["model"] = model
    info["model_bytes"] = os.path.getsize(model)
    (out / "train.json").write_text(json.dumps(info, indent=2))
    print(json.dumps(info))


def _heldout_messages():
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "tests/test_nlu.yml"))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def cmd_latency(args) -> None:
    import asyncio
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # As in production (log level INFO or above): no per-message debug logging.
    logging.getLogger().setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)

    messages = _heldout_messages()
    out = Path(args.out)

    async def run():
        t0 = time.perf_counter()
        agent = Agent.load(args.model)
        load_seconds = time.perf_counter() - t0
        for text, _ in messages[:10]:
            await agent.parse_message(text)
        times, cpu_times = [], []
        records = []
        for p in range(args.passes):
            for text, gold in messages:
                t, c = time.perf_counter(), time.process_time()
                result = await agent.parse_message(text)
                times.append((time.perf_counter() - t) * 1000)
                cpu_times.append((time.process_time() - c) * 1000)
                if p == 0:
                    ranking = [r for r in result.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
                    records.append({
                        "text": text,
                        "gold": gold,
                        "final": result["intent"]["name"],
                        "top": [[r["name"], r["confidence"]] for r in ranking[:3]],
                    })
        return load_seconds, times, cpu_times, records

    load_seconds, times, cpu_times, records = asyncio.run(run())
    try:
        load_avg = os.getloadavg()
    except OSError:
        load_avg = None
    info = {
        "load_seconds": load_seconds,
        "parses": len(times),
        "p50_ms": statistics.median(times),
        "p95_ms": _percentile(times, 0.95),
        "p99_ms": _percentile(times, 0.99),
        "mean_ms": statistics.fmean(times),
        # CPU time of this process per parse: less sensitive to other jobs on the machine.
        "cpu_p50_ms": statistics.median(cpu_times),
        "cpu_p95_ms": _percentile(cpu_times, 0.95),
        "loadavg_after": load_avg,
    }
    (out / "latency.json").write_text(json.dumps(info, indent=2))
    with open(out / "parses.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(json.dumps(info))


def cmd_cvparses(args) -> None:
    """Out-of-fold rankings for every training example (5 folds, NumPy seed 42 as in
    select_cv.py), to check fallback thresholds on more (and harder) messages."""
    import asyncio
    import logging
    import tempfile

    import numpy as np

    np.random.seed(42)
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.nlu.test import generate_folds
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.utils.log_utils import configure_structlog

    logging.getLogger().setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_data(str(ROOT / "data/nlu"))
    records = []
    for k, (train, test) in enumerate(generate_folds(5, data)):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "train.yml"
            path.write_text(train.nlu_as_yaml(), encoding="utf-8")
            model = train_nlu(args.config, str(path), tmp, fixed_model_name="fold")
            agent = Agent.load(model)

            async def parse_all():
                for m in test.intent_examples:
                    result = await agent.parse_message(m.get("text"))
                    ranking = [r for r in result.get("intent_ranking", []) if r["name"] != "nlu_fallback"]
                    records.append({"fold": k, "text": m.get("text"), "gold": m.get("intent"), "final": result["intent"]["name"],
                                    "top": [[r["name"], r["confidence"]] for r in ranking[:3]]})

            asyncio.run(parse_all())
    with open(out / "cv_parses.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(records)} out-of-fold parses -> {out / 'cv_parses.jsonl'}")


def _report(path: Path) -> dict:
    r = json.loads(path.read_text(encoding="utf-8"))
    per_intent = {k: v["f1-score"] for k, v in r.items() if isinstance(v, dict) and "support" in v and k not in ("macro avg", "weighted avg", "micro avg")}
    return {"accuracy": r["accuracy"], "macro_f1": r["macro avg"]["f1-score"], "per_intent_f1": per_intent}


def _run(cmd, log: Path) -> float:
    print("+", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    with open(log, "w") as f:
        subprocess.run(cmd, cwd=ROOT, env=ENV, stdout=f, stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - t0


def cmd_all(args) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    steps = args.steps.split(",")
    if "train" in steps:
        _run([PY, __file__, "train", "--config", args.config, "--out", str(out)], out / "train.log")
    model = str(out / "model.tar.gz")
    if "heldout" in steps:
        _run([RASA, "test", "nlu", "--nlu", "tests/test_nlu.yml", "--model", model, "--out", str(out / "heldout")], out / "heldout.log")
    if "latency" in steps:
        _run([PY, __file__, "latency", "--model", model, "--out", str(out)], out / "latency.log")
    if "cv" in steps:
        cv_seconds = _run([PY, str(REPO / "scripts/select_cv.py"), "--seed", "42", "--", "test", "nlu", "--nlu", "data/nlu",
                           "--cross-validation", "--folds", "5", "--config", args.config, "--out", str(out / "cv")], out / "cv.log")
        (out / "cv_seconds.txt").write_text(f"{cv_seconds:.1f}\n")
    summarise(out)


def summarise(out: Path) -> dict:
    s = {"name": out.name}
    for name in ("train", "latency"):
        p = out / f"{name}.json"
        if p.exists():
            s[name] = json.loads(p.read_text())
    if (out / "heldout/intent_report.json").exists():
        s["heldout"] = _report(out / "heldout/intent_report.json")
    if (out / "cv/intent_report.json").exists():
        s["cv"] = _report(out / "cv/intent_report.json")
        log = (out / "cv.log").read_text(errors="replace")
        m = re.search(r"Intent evaluation results.*?test accuracy: ([\d.]+) \(([\d.]+)\).*?test F1-score: ([\d.]+) \(([\d.]+)\)", log, re.S | re.I)
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
    p = sub.add_parser("train")
    p.add_argument("--config", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("latency")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--passes", type=int, default=3)
    p = sub.add_parser("cvparses")
    p.add_argument("--config", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("all")
    p.add_argument("--config", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", default="train,heldout,latency,cv")
    p = sub.add_parser("summary")
    p.add_argument("--out", required=True)
    args = parser.parse_args()
    if args.cmd == "summary":
        print(json.dumps(summarise(Path(args.out)), indent=2, ensure_ascii=False))
    else:
        {"train": cmd_train, "latency": cmd_latency, "cvparses": cmd_cvparses, "all": cmd_all}[args.cmd](args)


if __name__ == "__main__":
    main()
