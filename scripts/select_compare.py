"""Table of all measured configs + paired bootstrap of held-out macro-F1 differences.

Reads /tmp/select_nlu/<name>/summary.json and parses.jsonl (scripts/select_bench.py).
The bootstrap resamples the 451 held-out messages (same resample for both configs),
so "within noise" means the 95% interval of the macro-F1 difference contains 0.

Usage: .venv/bin/python scripts/select_compare.py --ref lr_lbfgs300 NAME [NAME ...]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

BASE = Path("/tmp/select_nlu")


def load_parses(name):
    rows = [json.loads(line) for line in open(BASE / name / "parses.jsonl", encoding="utf-8")]
    return [r["text"] for r in rows], np.array([r["gold"] for r in rows]), np.array([r["top"][0][0] for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    texts, gold, ref_pred = load_parses(args.ref)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(gold), size=(args.n, len(gold)))
    labels = sorted(set(gold))  # macro over the 34 real intents (a stray predicted label adds no class)

    def mf1(g, p):
        return f1_score(g, p, labels=labels, average="macro", zero_division=0)

    ref_boot = np.array([mf1(gold[i], ref_pred[i]) for i in idx])
    print("| config | CV acc (fold mean ± sd) | CV macro-F1 | held-out acc | held-out macro-F1 | Δ macro-F1 vs ref [95% CI] | fit s | train s | parse p50 / p95 ms | model MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.names:
        s = json.loads((BASE / name / "summary.json").read_text())
        t2, g2, pred = load_parses(name)
        assert t2 == texts
        boot = np.array([mf1(gold[i], pred[i]) for i in idx]) - ref_boot
        delta = mf1(gold, pred) - mf1(gold, ref_pred)
        lo, hi = np.percentile(boot, [2.5, 97.5])
        cv = s.get("cv", {})
        fold = cv.get("fold_accuracy_mean_std")
        cv_acc = f"{cv['accuracy']:.3f}" + (f" ({fold[0]:.3f} ± {fold[1]:.3f})" if fold else "") if cv else "–"
        cv_f1 = f"{cv['macro_f1']:.3f}" if cv else "–"
        h, tr, lat = s["heldout"], s["train"], s.get("latency", {})
        print(f"| {name} | {cv_acc} | {cv_f1} | {h['accuracy']:.3f} | {h['macro_f1']:.3f} | {delta:+.3f} [{lo:+.3f}, {hi:+.3f}] | "
              f"{tr['fit_seconds']:.1f} | {tr['train_nlu_seconds']:.0f} | {lat.get('p50_ms', float('nan')):.1f} / {lat.get('p95_ms', float('nan')):.1f} | {tr['model_bytes'] / 1e6:.1f} |")


if __name__ == "__main__":
    main()
