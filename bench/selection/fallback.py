"""Simulate FallbackClassifier thresholds on recorded parses (bench.selection.measure latency / cvparses).

For each (threshold, ambiguity_threshold) pair: how many messages would
become nlu_fallback, strict accuracy (a fallback counts as an error), accuracy of
the messages that do not fall back, how many wrong predictions the fallback
catches, and how the out_of_scope messages end (predicted out_of_scope, fallback,
or another intent). Same rule as rasa.nlu.classifiers.fallback_classifier:
fallback if top1 < threshold or top1 - top2 < ambiguity_threshold.

Usage: .venv/bin/python -m bench.selection.fallback OUT/NAME/parses.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Dict, List

THRESHOLDS = [0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5]
AMBIGUITY = [0.0, 0.02, 0.05, 0.1]


def simulate(records: List[Dict[str, Any]], threshold: float, ambiguity: float) -> Dict[str, Any]:
    n = len(records)
    fallback = correct_strict = caught = wrong_kept = 0
    oos = {"out_of_scope": 0, "nlu_fallback": 0, "other": 0}
    for r in records:
        (name1, c1), c2 = r["top"][0], (r["top"][1][1] if len(r["top"]) > 1 else 0.0)
        is_fb = c1 < threshold or (c1 - c2) < ambiguity
        right = name1 == r["gold"]
        if is_fb:
            fallback += 1
            caught += not right
        else:
            correct_strict += right
            wrong_kept += not right
        if r["gold"] == "out_of_scope":
            oos["nlu_fallback" if is_fb else ("out_of_scope" if name1 == "out_of_scope" else "other")] += 1
    kept = n - fallback
    return {
        "threshold": threshold,
        "ambiguity": ambiguity,
        "fallbacks": fallback,
        "strict_acc": correct_strict / n,
        "acc_of_kept": correct_strict / kept if kept else 0.0,
        "errors_caught": caught,
        "errors_kept": wrong_kept,
        "oos": oos,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parses", type=Path, help="parses.jsonl or cv_parses.jsonl")
    args = ap.parse_args()
    with open(args.parses, encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    print(f"{len(records)} messages, {sum(r['gold'] == 'out_of_scope' for r in records)} out_of_scope")
    print("thr   amb   fallbacks strict_acc acc_kept caught kept_err  oos(oos/fb/other)")
    for t in THRESHOLDS:
        for a in AMBIGUITY:
            s = simulate(records, t, a)
            o = s["oos"]
            print(
                f"{t:<5} {a:<5} {s['fallbacks']:>9} {s['strict_acc']:>10.4f} {s['acc_of_kept']:>8.4f} "
                f"{s['errors_caught']:>6} {s['errors_kept']:>8}  "
                f"{o['out_of_scope']}/{o['nlu_fallback']}/{o['other']}"
            )
    wrong = [r for r in records if r["top"][0][0] != r["gold"]]
    print(f"\n{len(wrong)} misclassified (before fallback):")
    for r in sorted(wrong, key=lambda r: r["gold"]):
        top = ", ".join(f"{n} {c:.2f}" for n, c in r["top"][:2])
        print(f"  {r['gold']:28s} -> {top:60s} {r['text']}")


if __name__ == "__main__":
    main()
