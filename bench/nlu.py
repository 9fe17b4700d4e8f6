"""Intent classification: one pipeline variant, held-out set and k-fold cross-validation.

Run once per variant, each in its own process (so one variant's TensorFlow
state or jieba dictionary cannot leak into the next):

    python -m bench.nlu --variant chosen --out bench/out/nlu/chosen [--folds 5]

Variants (all built from the files at run time, nothing hand-copied):

  chosen            config.yml as it is (NLU part)
  default_jieba     Rasa's default pipeline (rasa/engine/recipes/config_files/
                    default_config.yml) with WhitespaceTokenizer -> JiebaTokenizer
  no_normalizer     config.yml without addons.text_normalizer.ChineseTextNormalizer
  no_userdict       config.yml with JiebaTokenizer's dictionary_path removed
  sklearn_baseline  jieba.lcut + TfidfVectorizer + LogisticRegression (scikit-learn),
                    raw text, default jieba dictionary, no fallback

Held-out: train on data/nlu, predict tests/test_nlu.yml. Cross-validation:
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
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import SEED, percentile, write_json  # noqa: E402

VARIANTS = ["chosen", "default_jieba", "no_normalizer", "no_userdict", "sklearn_baseline"]
LABELS = {
    "chosen": "chosen (config.yml)",
    "default_jieba": "(a) Rasa default + Jieba",
    "no_normalizer": "(b) no normaliser",
    "no_userdict": "(c) no jieba user dict",
    "sklearn_baseline": "(d) jieba+TF-IDF+LR",
}
NORMALIZER = "addons.text_normalizer.ChineseTextNormalizer"
FALLBACK = "nlu_fallback"
OOS = "out_of_scope"


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
        elif name == "no_userdict":
            for c in pipeline:
                if c["name"] == "JiebaTokenizer":
                    c.pop("dictionary_path", None)
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
                results.append({
                    "final": (r.get("intent") or {}).get("name") or "",
                    "top1": ranking[0] if ranking else (r.get("intent") or {}).get("name") or "",
                    "entities": [{"entity": e["entity"], "value": e.get("value")} for e in r.get("entities") or []],
                })
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
    per_intent = {k: v["f1-score"] for k, v in report.items()
                  if isinstance(v, dict) and k not in ("macro avg", "weighted avg", "micro avg")}
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
        out[script] = {"n": len(sub), "accuracy": (sum(r["final"] == r["gold"] for r in sub) / len(sub)) if sub else None}
    if out["simplified"]["accuracy"] is not None and out["traditional"]["accuracy"] is not None:
        out["script_gap_points"] = 100 * (out["simplified"]["accuracy"] - out["traditional"]["accuracy"])
    oos = [r for r in records if r["gold"] == OOS]
    if oos:
        out["oos"] = {
            "n": len(oos),
            "recall": sum(r["final"] == OOS for r in oos) / len(oos),
            "declined": sum(r["final"] in (OOS, FALLBACK) for r in oos) / len(oos),
            "precision": (sum(r["gold"] == OOS for r in records if r["final"] == OOS)
                          / max(1, sum(r["final"] == OOS for r in records))),
        }
    return out


# --------------------------------------------------------------------------- main

def run_variant(name: str, out: Path, k: int, with_traditional_copy: bool = True) -> Dict[str, Any]:
    from actions.guidance.script import is_traditional, to_traditional

    logging.getLogger().setLevel(logging.WARNING)
    try:
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)
    except Exception:  # noqa: BLE001 - older rasa
        pass
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-nlu-{name}-"))
    config = variant_config(name, out)
    train_data, train_examples = load_examples(ROOT / "data/nlu")
    _, test_examples = load_examples(ROOT / "tests/test_nlu.yml")
    result: Dict[str, Any] = {"variant": name, "label": LABELS[name], "config": str(config) if config else None}

    def make():
        return SklearnBaseline() if config is None else RasaNLU(config)

    def fit(model, examples, nlu_file: Path, model_dir: Path):
        if config is None:
            model.fit_texts([m.get("text") for m in examples], [m.get("intent") for m in examples])
        else:
            model.fit(nlu_file, model_dir)

    def records(model, examples):
        texts = [m.get("text") for m in examples]
        preds, times = model.predict(texts)
        return [
            {"text": t, "gold": m.get("intent"), "script": "traditional" if is_traditional(t) else "simplified",
             "final": p["final"], "top1": p["top1"]}
            for t, m, p in zip(texts, examples, preds)
        ], times

    # Held-out
    print(f"[{name}] train on data/nlu ({len(train_examples)} examples), predict tests/test_nlu.yml ({len(test_examples)})", flush=True)
    model = make()
    fit(model, train_examples, ROOT / "data/nlu", tmp / "full")
    held, times = records(model, test_examples)
    result["train_seconds"] = model.train_seconds
    result["model_bytes"] = model.model_bytes
    result["heldout"] = evaluate(held)
    result["heldout"]["parse_ms"] = {"p50": percentile(times, 50), "p95": percentile(times, 95), "mean": sum(times) / len(times)}
    result["heldout_predictions"] = held
    if with_traditional_copy:
        # The Simplified held-out messages written in Traditional (OpenCC s2tw): a paired script test.
        simp = [m for m in test_examples if not is_traditional(m.get("text"))]
        texts = [to_traditional(m.get("text")) for m in simp]
        preds, _ = model.predict(texts)
        result["heldout_s2t"] = {
            "n": len(simp),
            "accuracy_simplified": sum(p["final"] == m.get("intent") for p, m in zip(model.predict([m.get("text") for m in simp])[0], simp)) / len(simp),
            "accuracy_as_traditional": sum(p["final"] == m.get("intent") for p, m in zip(preds, simp)) / len(simp),
        }
    del model

    # Cross-validation
    if k > 1:
        labels = [m.get("intent") for m in train_examples]
        cv_records: List[Dict[str, Any]] = []
        fold_scores = []
        t_cv = time.perf_counter()
        for i, (tr, te) in enumerate(folds(labels, k)):
            print(f"[{name}] fold {i + 1}/{k}: train {len(tr)}, test {len(te)}", flush=True)
            fold_file = tmp / f"fold{i}" / "train.yml"
            fold_file.parent.mkdir(parents=True, exist_ok=True)
            tr_examples = [train_examples[j] for j in tr]
            if config is not None:
                write_subset(train_data, tr_examples, fold_file)
            model = make()
            fit(model, tr_examples, fold_file, tmp / f"fold{i}")
            recs, _ = records(model, [train_examples[j] for j in te])
            for r in recs:
                r["fold"] = i
            cv_records += recs
            fold_scores.append(scores([r["gold"] for r in recs], [r["final"] for r in recs]))
            del model
        result["cv"] = evaluate(cv_records)
        result["cv"]["folds"] = k
        result["cv"]["fold_accuracy"] = [f["accuracy"] for f in fold_scores]
        result["cv"]["fold_macro_f1"] = [f["macro_f1"] for f in fold_scores]
        result["cv"]["seconds"] = time.perf_counter() - t_cv
        result["cv_predictions"] = cv_records
    write_json(out / "result.json", result)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", required=True, choices=VARIANTS)
    p.add_argument("--out", required=True)
    p.add_argument("--folds", type=int, default=5, help="0 or 1: held-out only")
    args = p.parse_args()
    os.chdir(ROOT)  # component paths (data/dictionaries, data/patterns) are relative to the root
    t0 = time.perf_counter()
    r = run_variant(args.variant, Path(args.out), args.folds)
    h = r["heldout"]
    cv = r.get("cv", {})
    print(f"[{args.variant}] held-out acc {h['accuracy']:.4f} macro-F1 {h['macro_f1']:.4f}"
          + (f" | CV acc {cv['accuracy']:.4f} macro-F1 {cv['macro_f1']:.4f}" if cv else "")
          + f" | {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
