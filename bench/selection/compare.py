"""Table of all measured configs + paired bootstrap of held-out macro-F1 differences.

Reads BASE/<name>/summary.json and parses.jsonl (written by bench.selection.measure).
The bootstrap resamples the held-out messages (same resample for both configs),
so "within noise" means the 95% interval of the macro-F1 difference contains 0.

Usage: .venv/bin/python -m bench.selection.compare --base OUT --ref lr_lbfgs300 NAME [NAME ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, List, Tuple


def load_parses(folder: Path) -> Tuple[List[str], Any, Any]:
    """Texts, gold intents and top-1 predictions (numpy arrays) of one config's held-out parses."""
    import numpy as np

    with open(folder / "parses.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [r["text"] for r in rows], np.array([r["gold"] for r in rows]), np.array([r["top"][0][0] for r in rows])


def main() -> None:
    import numpy as np
    from sklearn.metrics import f1_score

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, type=Path, help="folder with one sub-folder per measured config")
    ap.add_argument("--ref", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    texts, gold, ref_pred = load_parses(args.base / args.ref)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(gold), size=(args.n, len(gold)))
    labels = sorted(set(gold))  # macro over the real intents (a stray predicted label adds no class)

    def mf1(g: Any, p: Any) -> float:
        return f1_score(g, p, labels=labels, average="macro", zero_division=0)

    ref_boot = np.array([mf1(gold[i], ref_pred[i]) for i in idx])
    print(
        "| config | CV acc (fold mean ± sd) | CV macro-F1 | held-out acc | held-out macro-F1 "
        "| Δ macro-F1 vs ref [95% CI] | fit s | train s | parse p50 / p95 ms | model MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    nan = float("nan")
    for name in args.names:
        s = json.loads((args.base / name / "summary.json").read_text())
        t2, _, pred = load_parses(args.base / name)
        assert t2 == texts, f"{name}: not the same held-out messages as {args.ref}"
        boot = np.array([mf1(gold[i], pred[i]) for i in idx]) - ref_boot
        delta = mf1(gold, pred) - mf1(gold, ref_pred)
        lo, hi = np.percentile(boot, [2.5, 97.5])
        cv = s.get("cv", {})
        fold = cv.get("fold_accuracy_mean_std")
        cv_acc = f"{cv['accuracy']:.3f}" + (f" ({fold[0]:.3f} ± {fold[1]:.3f})" if fold else "") if cv else "–"
        cv_f1 = f"{cv['macro_f1']:.3f}" if cv else "–"
        h, tr, lat = s["heldout"], s["train"], s.get("latency", {})
        print(
            f"| {name} | {cv_acc} | {cv_f1} | {h['accuracy']:.3f} | {h['macro_f1']:.3f} "
            f"| {delta:+.3f} [{lo:+.3f}, {hi:+.3f}] | {tr['fit_seconds']:.1f} | {tr['train_nlu_seconds']:.0f} "
            f"| {lat.get('p50_ms', nan):.1f} / {lat.get('p95_ms', nan):.1f} | {tr['model_bytes'] / 1e6:.1f} |"
        )


if __name__ == "__main__":
    main()
