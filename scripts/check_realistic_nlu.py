"""Score the trained model on tests/realistic_nlu.yml, by kind of message; fail below the floors.

The set was written from scenarios (personas, seeds, kinds of message) and is never
trained on. Every message goes through the whole NLU pipeline (normaliser, classifier,
safety net, fake-authority check), as a user's message does.

Usage: python scripts/check_realistic_nlu.py --model models/debt-rights.tar.gz
           [--out results/realistic] [--min-accuracy 0.90] [--min-emergency-recall 1.0]
Writes <out>/report.json (per kind, per intent, the errors) and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REALISTIC = ROOT / "tests" / "realistic_nlu.yml"
EMERGENCY = "emergency_now"
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"


def load_examples(path: Path = REALISTIC) -> List[Dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in data["nlu"]:
        for example in block["examples"]:
            meta = example.get("metadata") or {}
            examples.append(
                {
                    "text": example["text"],
                    "intent": block["intent"],
                    "kinds": list(meta.get("kinds") or []),
                    "also": list(meta.get("also") or []),
                }
            )
    return examples


def _convert(text: str, traditional: bool) -> str:
    from chinese_text.script import to_simplified, to_traditional

    return to_simplified(text) if traditional else to_traditional(text)


async def parse_all(model: Path, texts: List[str]) -> List[Dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def accuracy(pairs: List[tuple]) -> float:
    return sum(1 for gold, predicted in pairs if gold == predicted) / len(pairs) if pairs else 0.0


def score(
    examples: List[Dict[str, Any]], parsed: List[Dict[str, Any]], converted: List[Dict[str, Any]]
) -> Dict[str, Any]:
    pairs = [(e["intent"], p["intent"]["name"]) for e, p in zip(examples, parsed)]
    by_kind: Dict[str, List[tuple]] = defaultdict(list)
    for example, pair in zip(examples, pairs):
        for kind in example["kinds"] or ["plain"]:
            by_kind[kind].append(pair)
    live = [pair for example, pair in zip(examples, pairs) if "live_emergency" in example["kinds"]]
    not_now = [pair for example, pair in zip(examples, pairs) if "danger_not_now" in example["kinds"]]
    oos = [pair for pair in pairs if pair[0] == OUT_OF_SCOPE]
    traditional = [pair for example, pair in zip(examples, pairs) if "traditional" in example["kinds"]]
    simplified = [pair for example, pair in zip(examples, pairs) if "traditional" not in example["kinds"]]
    converted_pairs = [(e["intent"], p["intent"]["name"]) for e, p in zip(examples, converted)]
    also_found = [
        any(a in [s.get("name") for s in p.get("secondary_intents") or []] for a in e["also"])
        for e, p in zip(examples, parsed)
        if e["also"]
    ]
    errors = [
        {"text": e["text"], "intent": gold, "predicted": predicted, "kinds": e["kinds"]}
        for e, (gold, predicted) in zip(examples, pairs)
        if gold != predicted
    ]
    per_intent = {}
    for intent in sorted({gold for gold, _ in pairs}):
        mine = [pair for pair in pairs if pair[0] == intent]
        per_intent[intent] = {"n": len(mine), "recall": accuracy(mine)}
    return {
        "n": len(pairs),
        "accuracy": accuracy(pairs),
        "kinds": {kind: {"n": len(v), "accuracy": accuracy(v)} for kind, v in sorted(by_kind.items())},
        "live_emergency_recall": accuracy(live),
        "danger_not_now_promoted": sum(1 for _, p in not_now if p == EMERGENCY) / len(not_now) if not_now else 0.0,
        "out_of_scope_recall": accuracy(oos),
        "traditional_accuracy": accuracy(traditional),
        "simplified_accuracy": accuracy(simplified),
        "converted_accuracy": accuracy(converted_pairs),
        "script_gap_points": 100 * (accuracy(converted_pairs) - accuracy(pairs)),
        "secondary_worry_found": sum(also_found) / len(also_found) if also_found else 0.0,
        "fallbacks": sum(1 for _, p in pairs if p == FALLBACK),
        "confusions": Counter(f"{g} -> {p}" for g, p in pairs if g != p).most_common(15),
        "per_intent": per_intent,
        "errors": errors,
    }


def print_report(report: Dict[str, Any]) -> None:
    print(f"realistic set: {report['n']} messages, intent accuracy {report['accuracy']:.3f}")
    for kind, entry in report["kinds"].items():
        print(f"  {kind:<20} n={entry['n']:<4} accuracy {entry['accuracy']:.3f}")
    print(
        f"  live-emergency recall {report['live_emergency_recall']:.3f}; hypothetical/past promoted "
        f"{report['danger_not_now_promoted']:.3f}; out-of-scope recall {report['out_of_scope_recall']:.3f}"
    )
    print(
        f"  Simplified {report['simplified_accuracy']:.3f} / Traditional {report['traditional_accuracy']:.3f}; "
        f"every message in the other script {report['converted_accuracy']:.3f} "
        f"(gap {report['script_gap_points']:+.1f} points)"
    )
    print(f"  second worry found {report['secondary_worry_found']:.3f}; fallbacks {report['fallbacks']}")
    for confusion, count in report["confusions"]:
        print(f"    {count:>3}  {confusion}")


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "debt-rights.tar.gz"))
    parser.add_argument("--out", default=str(ROOT / "results" / "realistic"))
    parser.add_argument("--min-accuracy", type=float, default=0.90)
    parser.add_argument("--min-emergency-recall", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # Rasa's debug parse log would print every message
    examples = load_examples()
    texts = [e["text"] for e in examples]
    parsed = asyncio.run(parse_all(Path(args.model), texts))
    converted_texts = [_convert(e["text"], "traditional" in e["kinds"]) for e in examples]
    converted = asyncio.run(parse_all(Path(args.model), converted_texts))
    report = score(examples, parsed, converted)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print_report(report)
    failures = []
    if report["accuracy"] < args.min_accuracy:
        failures.append(f"accuracy {report['accuracy']:.3f} < {args.min_accuracy}")
    if report["live_emergency_recall"] < args.min_emergency_recall:
        missed = [e["text"] for e in report["errors"] if "live_emergency" in e["kinds"]]
        failures.append(
            f"live-emergency recall {report['live_emergency_recall']:.3f} < {args.min_emergency_recall}: {missed}"
        )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
