"""Fail (exit 1) when `rasa test nlu` results fall below the agreed thresholds."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def check(report: dict, min_accuracy: float, min_macro_f1: float) -> list[str]:
    accuracy = report["accuracy"]
    macro_f1 = report["macro avg"]["f1-score"]
    print(f"intent accuracy {accuracy:.4f} (min {min_accuracy}), macro-F1 {macro_f1:.4f} (min {min_macro_f1})")
    problems = []
    if accuracy < min_accuracy:
        problems.append(f"intent accuracy {accuracy:.4f} < {min_accuracy}")
    if macro_f1 < min_macro_f1:
        problems.append(f"macro-F1 {macro_f1:.4f} < {min_macro_f1}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("report", type=Path)
    parser.add_argument("--min-accuracy", type=float, required=True)
    parser.add_argument("--min-macro-f1", type=float, required=True)
    args = parser.parse_args()
    report = json.loads(args.report.read_text(encoding="utf-8"))
    problems = check(report, args.min_accuracy, args.min_macro_f1)
    weakest = sorted(
        (
            (name, v["f1-score"])
            for name, v in report.items()
            if isinstance(v, dict) and "support" in v and name not in ("macro avg", "weighted avg", "micro avg")
        ),
        key=lambda item: item[1],
    )[:5]
    print("weakest intents: " + ", ".join(f"{n} {f:.2f}" for n, f in weakest))
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
