"""Intent classification: one pipeline variant, held-out set and k-fold cross-validation.

Run once per variant, each in its own process (so one variant's TensorFlow
state or jieba dictionary cannot leak into the next):

    python -m bench.nlu --variant chosen --out bench/out/nlu/chosen [--folds 5]

Variants (all built from the files at run time, nothing hand-copied):

  chosen            config.yml as it is (NLU part)
  no_focus          config.yml without addons.components.question_focus_featurizer.QuestionFocusFeaturizer
                    and addons.components.secondary_intents.SecondaryIntents: the pipeline before
                    issue 11's question focus (the reference the focus feature must beat)
  default_jieba     Rasa's default pipeline (rasa/engine/recipes/config_files/
                    default_config.yml) with WhitespaceTokenizer -> JiebaTokenizer
  no_normalizer     config.yml without addons.components.text_normalizer.ChineseTextNormalizer
  userdict          config.yml with a jieba user dictionary of domain terms
                    (JiebaTokenizer dictionary_path: bench/data/jieba_user_dict);
                    config.yml has none: this variant lost (docs/benchmarks.md)
  sklearn_baseline  jieba.lcut + TfidfVectorizer + LogisticRegression (scikit-learn),
                    raw text, default jieba dictionary, no fallback

Held-out: train on data/nlu, predict tests/test_nlu.yml; the same model (Rasa
variants) also scores the independent realistic set tests/realistic_nlu.yml with
scripts/check_realistic_nlu.py's functions (by kind of message). Cross-validation:
StratifiedKFold(k, shuffle=True, random_state=42) over data/nlu's intent
examples -- the same folds for every variant, so the comparison is paired.
Rasa variants are trained with rasa.model_training.train_nlu (what `rasa train
nlu` calls) and predicted with Agent.parse_message (what `rasa test nlu` and the
server use). Metrics use rasa.model_testing.get_evaluation_metrics, the function
behind `rasa test nlu`'s intent_report.json: accuracy counts an nlu_fallback as
an error; macro-F1 averages over the gold intents.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import SEED, percentile, realistic_checker, write_json  # noqa: E402

VARIANTS = ["chosen", "no_focus", "default_jieba", "no_normalizer", "userdict", "sklearn_baseline"]
LABELS = {
    "chosen": "chosen (config.yml)",
    "no_focus": "(e) no question focus (before issue 11)",
    "default_jieba": "(a) Rasa default + Jieba",
    "no_normalizer": "(b) no normaliser",
    "userdict": "(c) with jieba user dict",
    "sklearn_baseline": "(d) jieba+TF-IDF+LR",
}
NORMALIZER = "addons.components.text_normalizer.ChineseTextNormalizer"
# Issue 11's question focus: the featurizer and the second-worry component it brought.
FOCUS_COMPONENTS = (
    "addons.components.question_focus_featurizer.QuestionFocusFeaturizer",
    "addons.components.secondary_intents.SecondaryIntents",
)
USER_DICT_DIR = "bench/data/jieba_user_dict"  # relative to ROOT (main() changes into it)
FALLBACK = "nlu_fallback"
OOS = "out_of_scope"
# What a job reads; other people edit the tree during a run, and paired comparisons need the same inputs.
INPUTS = ("config.yml", "data", "addons", "tests/test_nlu.yml", "tests/realistic_nlu.yml")


# --------------------------------------------------------------------------- configs


def _yaml():
    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    return y


def variant_config(name: str, folder: Path) -> Optional[Path]:
    """Write the variant's Rasa config to `folder`/config.yml (None for the sklearn baseline)."""
    if name == "sklearn_baseline":
        return None
    y = _yaml()
    if name == "default_jieba":
        import rasa.engine.recipes as recipes

        config = y.load((Path(recipes.__file__).parent / "config_files/default_config.yml").read_text())
        config["language"] = "zh"
        for component in config["pipeline"]:
            if component["name"] == "WhitespaceTokenizer":
                component["name"] = "JiebaTokenizer"
    else:
        config = y.load((ROOT / "config.yml").read_text(encoding="utf-8"))
        pipeline = config["pipeline"]
        if name == "no_normalizer":
            pipeline[:] = [c for c in pipeline if c["name"] != NORMALIZER]
        elif name == "no_focus":
            pipeline[:] = [c for c in pipeline if c["name"] not in FOCUS_COMPONENTS]
        elif name == "userdict":
            for c in pipeline:
                if c["name"] == "JiebaTokenizer":
                    c["dictionary_path"] = USER_DICT_DIR
        elif name != "chosen":
            raise SystemExit(f"unknown variant {name}")
    config["policies"] = []  # NLU only
    config.pop("assistant_id", None)
    config["assistant_id"] = f"bench-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yml"
    with open(path, "w", encoding="utf-8") as f:
        y.dump(config, f)
    return path


# --------------------------------------------------------------------------- data


def inputs_fingerprint() -> str:
    """sha256 over the files of INPUTS (paths and contents): equal in every job of a run when nothing changed."""
    h = hashlib.sha256()
    for rel in INPUTS:
        path = ROOT / rel
        files = (
            sorted(f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
            if path.is_dir()
            else [path]
        )
        for f in files:
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def load_examples(path: Path):
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return data, [m for m in data.intent_examples]


def write_subset(data, examples, path: Path) -> None:
    from rasa.shared.nlu.training_data.training_data import TrainingData

    subset = TrainingData(
        training_examples=[copy.deepcopy(m) for m in examples],
        entity_synonyms=data.entity_synonyms,
        regex_features=data.regex_features,
        lookup_tables=data.lookup_tables,
    )
    subset.persist_nlu(str(path))


def folds(labels: List[str], k: int) -> List[Tuple[List[int], List[int]]]:
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    return [(list(a), list(b)) for a, b in skf.split([[0]] * len(labels), labels)]


# --------------------------------------------------------------------------- models


class RasaNLU:
    """Train with rasa.model_training.train_nlu; predict with Agent.parse_message."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.agent = None
        self.train_seconds = None

    def fit(self, nlu_file: Path, out: Path) -> None:
        from rasa.core.agent import Agent
        from rasa.model_training import train_nlu

        t0 = time.perf_counter()
        model = train_nlu(str(self.config), str(nlu_file), str(out), fixed_model_name="model")
        self.train_seconds = time.perf_counter() - t0
        self.model_bytes = os.path.getsize(model)
        self.agent = Agent.load(model)

    def predict(self, texts: List[str]) -> Tuple[List[Dict[str, Any]], List[float]]:
        async def go():
            results, times = [], []
            for text in texts[:5]:  # warm-up (lazy initialisation), not timed
                await self.agent.parse_message(text)
            for text in texts:
                t = time.perf_counter()
                r = await self.agent.parse_message(text)
                times.append((time.perf_counter() - t) * 1000)
                ranking = [x["name"] for x in r.get("intent_ranking") or [] if x["name"] != FALLBACK]
                results.append(
                    {
                        "final": (r.get("intent") or {}).get("name") or "",
                        "top1": ranking[0] if ranking else (r.get("intent") or {}).get("name") or "",
                        "entities": [{"entity": e["entity"], "value": e.get("value")} for e in r.get("entities") or []],
                    }
                )
            return results, times

        return asyncio.run(go())


class SklearnBaseline:
    """Plain baseline: jieba tokens -> TF-IDF -> logistic regression, raw text."""

    def __init__(self) -> None:
        self.train_seconds = None
        self.model_bytes = None

    def fit_texts(self, texts: List[str], labels: List[str]) -> None:
        import jieba
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        jieba.setLogLevel(logging.WARNING)
        t0 = time.perf_counter()
        self.pipe = make_pipeline(
            TfidfVectorizer(tokenizer=jieba.lcut, token_pattern=None, lowercase=True),
            LogisticRegression(max_iter=1000, random_state=SEED),
        )
        self.pipe.fit(texts, labels)
        self.train_seconds = time.perf_counter() - t0

    def predict(self, texts: List[str]) -> Tuple[List[Dict[str, Any]], List[float]]:
        results, times = [], []
        for text in texts:
            t = time.perf_counter()
            label = self.pipe.predict([text])[0]
            times.append((time.perf_counter() - t) * 1000)
            results.append({"final": label, "top1": label, "entities": []})
        return results, times


# --------------------------------------------------------------------------- metrics


def scores(gold: List[str], pred: List[str]) -> Dict[str, Any]:
    from rasa.model_testing import get_evaluation_metrics

    if not gold:
        return {"n": 0}
    report, _, _, accuracy = get_evaluation_metrics(gold, pred, output_dict=True)
    per_intent = {
        k: v["f1-score"]
        for k, v in report.items()
        if isinstance(v, dict) and k not in ("macro avg", "weighted avg", "micro avg")
    }
    return {
        "n": len(gold),
        "accuracy": accuracy,
        "macro_f1": report["macro avg"]["f1-score"],
        "per_intent_f1": per_intent,
    }


def evaluate(records: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Records: {text, gold, script, final, top1}."""
    gold = [r["gold"] for r in records]
    final = [r["final"] for r in records]
    out = scores(gold, final)
    out["top1_before_fallback"] = scores(gold, [r["top1"] for r in records])["accuracy"]
    out["fallbacks"] = sum(p == FALLBACK for p in final)
    for script in ("simplified", "traditional"):
        sub = [r for r in records if r["script"] == script]
        out[script] = {
            "n": len(sub),
            "accuracy": (sum(r["final"] == r["gold"] for r in sub) / len(sub)) if sub else None,
        }
    if out["simplified"]["accuracy"] is not None and out["traditional"]["accuracy"] is not None:
        out["script_gap_points"] = 100 * (out["simplified"]["accuracy"] - out["traditional"]["accuracy"])
    oos = [r for r in records if r["gold"] == OOS]
    if oos:
        out["oos"] = {
            "n": len(oos),
            "recall": sum(r["final"] == OOS for r in oos) / len(oos),
            "declined": sum(r["final"] in (OOS, FALLBACK) for r in oos) / len(oos),
            "precision": (
                sum(r["gold"] == OOS for r in records if r["final"] == OOS)
                / max(1, sum(r["final"] == OOS for r in records))
            ),
        }
    return out


def score_realistic(model: Path) -> Dict[str, Any]:
    """tests/realistic_nlu.yml through the whole trained pipeline, scored by scripts/check_realistic_nlu.py.

    As its main(): every message, then every message converted to the other script; plus
    the per-message predictions, for the paired comparison between pipelines.
    """
    check = realistic_checker()
    examples = check.load_examples()
    texts = [e["text"] for e in examples]
    converted_texts = [check._convert(e["text"], "traditional" in e["kinds"]) for e in examples]
    t0 = time.perf_counter()
    parsed = asyncio.run(check.parse_all(model, texts + converted_texts))  # one model load for both passes
    seconds = time.perf_counter() - t0
    report = check.score(examples, parsed[: len(texts)], parsed[len(texts) :])
    report["parse_seconds"] = seconds
    report["records"] = [
        {
            "text": e["text"],
            "gold": e["intent"],
            "final": p["intent"]["name"],
            "kinds": e["kinds"],
            "also": e["also"],
            "secondary": [x.get("name") for x in p.get("secondary_intents") or []],
        }
        for e, p in zip(examples, parsed)
    ]
    return report


# --------------------------------------------------------------------------- jobs


def _quiet() -> None:
    warnings.filterwarnings("ignore")  # sklearn's zero-division and convergence chatter
    logging.getLogger().setLevel(logging.WARNING)
    try:
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)
    except Exception:  # noqa: BLE001 - older rasa
        pass


def run_job(name: str, fold: str, k: int, out: Path, keep_model: bool = False) -> Dict[str, Any]:
    """One training + prediction: `fold` = "heldout" (train data/nlu, predict tests/test_nlu.yml)
    or a fold index 0..k-1 of the cross-validation over data/nlu."""
    import shutil

    from chinese_text.script import is_traditional, to_traditional

    _quiet()
    inputs = inputs_fingerprint()
    vdir = out / name
    vdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-nlu-{name}-{fold}-"))
    try:
        config = variant_config(name, tmp)
        if config is not None:
            shutil.copy(config, vdir / "config.yml")
        train_data, train_examples = load_examples(ROOT / "data/nlu")
        if fold == "heldout":
            fit_examples = train_examples
            nlu_file = ROOT / "data/nlu"
            _, test_examples = load_examples(ROOT / "tests/test_nlu.yml")
        else:
            tr, te = folds([m.get("intent") for m in train_examples], k)[int(fold)]
            fit_examples = [train_examples[j] for j in tr]
            test_examples = [train_examples[j] for j in te]
            nlu_file = tmp / "train.yml"
            if config is not None:
                write_subset(train_data, fit_examples, nlu_file)
        if config is None:
            model = SklearnBaseline()
            model.fit_texts([m.get("text") for m in fit_examples], [m.get("intent") for m in fit_examples])
        else:
            model = RasaNLU(config)
            model.fit(nlu_file, tmp / "model")
            if keep_model:
                shutil.copy(tmp / "model" / "model.tar.gz", vdir / "model.tar.gz")
        texts = [m.get("text") for m in test_examples]
        preds, times = model.predict(texts)
        records = [
            {
                "text": t,
                "gold": m.get("intent"),
                "script": "traditional" if is_traditional(t) else "simplified",
                "final": p["final"],
                "top1": p["top1"],
            }
            for t, m, p in zip(texts, test_examples, preds)
        ]
        job: Dict[str, Any] = {
            "variant": name,
            "fold": fold,
            "inputs": inputs,
            "train_examples": len(fit_examples),
            "test_examples": len(test_examples),
            "train_seconds": model.train_seconds,
            "model_bytes": model.model_bytes,
            "parse_ms": {"p50": percentile(times, 50), "p95": percentile(times, 95), "mean": sum(times) / len(times)},
            "records": records,
        }
        # Paired script test: the Simplified test messages written in Traditional (OpenCC s2tw), classified again.
        simp = [(r, m) for r, m in zip(records, test_examples) if r["script"] == "simplified"]
        trad_preds, _ = model.predict([to_traditional(m.get("text")) for _, m in simp])
        job["s2t"] = {
            "n": len(simp),
            "correct_simplified": sum(r["final"] == r["gold"] for r, _ in simp),
            "correct_as_traditional": sum(p["final"] == r["gold"] for p, (r, _) in zip(trad_preds, simp)),
            "changed": sum(p["final"] != r["final"] for p, (r, _) in zip(trad_preds, simp)),
        }
        job["s2t"]["accuracy_simplified"] = job["s2t"]["correct_simplified"] / max(1, len(simp))
        job["s2t"]["accuracy_as_traditional"] = job["s2t"]["correct_as_traditional"] / max(1, len(simp))
        if config is not None:
            job["pipeline"] = [c["name"] for c in _yaml().load(config.read_text(encoding="utf-8"))["pipeline"]]
            if fold == "heldout":
                job["realistic"] = score_realistic(tmp / "model" / "model.tar.gz")
        if inputs_fingerprint() != inputs:
            job["inputs_changed_during_job"] = True
        write_json(vdir / f"job-{fold}.json", job)
        return job
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _inputs_of(jobs: List[Dict[str, Any]]) -> List[str]:
    """The input fingerprints the jobs saw (one when nothing changed during the run)."""
    seen = {j.get("inputs") or "unknown" for j in jobs}
    if any(j.get("inputs_changed_during_job") for j in jobs):
        seen.add("changed-during-a-job")
    return sorted(seen)


def merge(out: Path, name: str, k: int) -> Dict[str, Any]:
    """Metrics of one variant from its job files (held-out, and CV if all k folds ran)."""
    from bench.common import read_json

    vdir = out / name
    held = read_json(vdir / "job-heldout.json")
    result: Dict[str, Any] = {
        "variant": name,
        "label": LABELS[name],
        "config": str(vdir / "config.yml") if (vdir / "config.yml").exists() else None,
        "train_seconds": held["train_seconds"],
        "model_bytes": held["model_bytes"],
        "heldout": {**evaluate(held["records"]), "parse_ms": held["parse_ms"]},
        "heldout_s2t": held.get("s2t"),
        "pipeline": held.get("pipeline"),
        "inputs": _inputs_of([held]),
        # per-message predictions stay in job-heldout.json (the report pairs them)
        "realistic": (
            {key: value for key, value in held["realistic"].items() if key != "records"}
            if held.get("realistic")
            else None
        ),
    }
    fold_files = [vdir / f"job-{i}.json" for i in range(k)] if k > 1 else []
    if fold_files and all(f.exists() for f in fold_files):
        jobs = [read_json(f) for f in fold_files]
        records = [dict(r, fold=i) for i, j in enumerate(jobs) for r in j["records"]]
        cv = evaluate(records)
        cv["folds"] = k
        cv["fold_accuracy"] = [
            scores([r["gold"] for r in j["records"]], [r["final"] for r in j["records"]])["accuracy"] for j in jobs
        ]
        cv["fold_macro_f1"] = [
            scores([r["gold"] for r in j["records"]], [r["final"] for r in j["records"]])["macro_f1"] for j in jobs
        ]
        cv["train_seconds_total"] = sum(j["train_seconds"] for j in jobs)
        if all(j.get("s2t") for j in jobs):
            n = sum(j["s2t"]["n"] for j in jobs)
            cv["s2t"] = {
                "n": n,
                "accuracy_simplified": sum(j["s2t"]["correct_simplified"] for j in jobs) / max(1, n),
                "accuracy_as_traditional": sum(j["s2t"]["correct_as_traditional"] for j in jobs) / max(1, n),
                "changed": sum(j["s2t"]["changed"] for j in jobs),
            }
        result["cv"] = cv
        result["inputs"] = _inputs_of([held] + jobs)
    write_json(vdir / "result.json", result)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", required=True, choices=VARIANTS)
    p.add_argument(
        "--fold", default="all", help="heldout, a fold index, or all (held-out + every fold, in this process)"
    )
    p.add_argument("--folds", type=int, default=5, help="k of the k-fold cross-validation (0: held-out only)")
    p.add_argument("--out", required=True, help="results go to OUT/VARIANT/")
    p.add_argument("--keep-model", action="store_true", help="keep the held-out model as OUT/VARIANT/model.tar.gz")
    args = p.parse_args()
    os.chdir(ROOT)  # component paths (data/dictionaries, data/patterns) are relative to the root
    out = Path(args.out)
    t0 = time.perf_counter()
    jobs = (
        ["heldout"] + [str(i) for i in range(args.folds if args.folds > 1 else 0)]
        if args.fold == "all"
        else [args.fold]
    )
    for fold in jobs:
        j = run_job(args.variant, fold, args.folds, out, keep_model=args.keep_model and fold == "heldout")
        print(
            f"[{args.variant} {fold}] train {j['train_seconds']:.1f} s, accuracy "
            f"{sum(r['final'] == r['gold'] for r in j['records']) / len(j['records']):.4f}",
            flush=True,
        )
    if args.fold == "all":
        r = merge(out, args.variant, args.folds)
        h, cv, real = r["heldout"], r.get("cv", {}), r.get("realistic")
        print(
            f"[{args.variant}] held-out acc {h['accuracy']:.4f} macro-F1 {h['macro_f1']:.4f}"
            + (f" | CV acc {cv['accuracy']:.4f} macro-F1 {cv['macro_f1']:.4f}" if cv else "")
            + (f" | realistic acc {real['accuracy']:.4f}" if real else "")
            + f" | {time.perf_counter() - t0:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
