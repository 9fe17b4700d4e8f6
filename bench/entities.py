"""Entity extraction precision / recall on bench/data/entities_heldout.yml.

    python -m bench.entities --model MODEL.tar.gz --out bench/out/entities

Each sentence goes through the trained model's full NLU pipeline
(Agent.parse_message: normaliser -> tokenizer -> ... -> ChineseEntityExtractor),
exactly as the server parses a user message. Scored per sentence on
(entity, value) pairs for amount, bank, overdue_duration and relation, and
separately (``derived_scores``) on the message's ``derived_facts`` keys
loan_type, jurisdiction and amount_total, over the sentences whose gold has a
``derived_facts`` mapping.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_json  # noqa: E402

HELDOUT = ROOT / "bench/data/entities_heldout.yml"
TYPES = ["amount", "bank", "overdue_duration", "relation"]
# Keys of the parse data's ``derived_facts`` (addons.components.entity_extractor), scored apart.
DERIVED = ["loan_type", "jurisdiction", "amount_total"]


def load_gold(path: Path = HELDOUT) -> List[Dict[str, Any]]:
    from ruamel.yaml import YAML

    rows = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))["examples"]
    out = []
    for row in rows:
        gold: Set[Tuple[str, str]] = set()
        for t in TYPES:
            v = row.get(t)
            for value in v if isinstance(v, list) else [v] if v is not None else []:
                gold.add((t, str(value)))
        facts = row.get("derived_facts")
        derived = None if facts is None else {(t, str(facts[t])) for t in DERIVED if facts.get(t) is not None}
        out.append({"text": row["text"], "gold": gold, "gold_derived": derived})
    return out


def check_not_in_training(rows: List[Dict[str, Any]]) -> List[str]:
    """Sentences of the held-out entity set that also occur in data/nlu or tests/test_nlu.yml."""
    from rasa.shared.nlu.training_data.loading import load_data

    from chinese_text.normalise import normalise

    seen = set()
    for p in ("data/nlu", "tests/test_nlu.yml"):
        for m in load_data(str(ROOT / p)).training_examples:
            if m.get("text"):
                seen.add(normalise(m.get("text"))[0])
    return [r["text"] for r in rows if normalise(r["text"])[0] in seen]


def score(
    rows: List[Dict[str, Any]], types: List[str] = TYPES, pred_key: str = "pred", gold_key: str = "gold"
) -> Dict[str, Any]:
    tp, fp, fn = Counter(), Counter(), Counter()
    for r in rows:
        pred = {(t, v) for t, v in r[pred_key] if t in types}
        for t, _ in pred & r[gold_key]:
            tp[t] += 1
        for t, _ in pred - r[gold_key]:
            fp[t] += 1
        for t, _ in r[gold_key] - pred:
            fn[t] += 1
    out = {}
    for t in types + ["all"]:
        a = sum(tp.values()) if t == "all" else tp[t]
        b = sum(fp.values()) if t == "all" else fp[t]
        c = sum(fn.values()) if t == "all" else fn[t]
        p = a / (a + b) if a + b else None
        rc = a / (a + c) if a + c else None
        f1 = 2 * p * rc / (p + rc) if p and rc else 0.0
        out[t] = {"support": a + c, "tp": a, "fp": b, "fn": c, "precision": p, "recall": rc, "f1": f1}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.chdir(ROOT)
    logging.getLogger().setLevel(logging.WARNING)
    try:
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)
    except Exception:  # noqa: BLE001
        pass

    rows = load_gold()
    overlap = check_not_in_training(rows)
    if overlap:
        raise SystemExit(f"bench/data/entities_heldout.yml: these sentences are in the training/test data: {overlap}")

    from rasa.core.agent import Agent

    from chinese_text.script import is_traditional

    agent = Agent.load(args.model)

    async def parse_all():
        for r in rows:
            result = await agent.parse_message(r["text"])
            r["pred"] = {(e["entity"], str(e.get("value"))) for e in result.get("entities") or []}
            facts = result.get("derived_facts") or {}
            r["pred_derived"] = {(t, str(facts[t])) for t in DERIVED if facts.get(t) is not None}

    asyncio.run(parse_all())
    with_facts = [r for r in rows if r["gold_derived"] is not None]
    result = {
        "sentences": len(rows),
        "sentences_per_type": {t: sum(any(g[0] == t for g in r["gold"]) for r in rows) for t in TYPES},
        "sentences_without_entity": sum(not r["gold"] for r in rows),
        "traditional_sentences": sum(is_traditional(r["text"]) for r in rows),
        "scores": score(rows),
        "sentences_with_derived_facts": len(with_facts),
        "sentences_per_derived_fact": {
            t: sum(any(g[0] == t for g in r["gold_derived"]) for r in with_facts) for t in DERIVED
        },
        "derived_scores": score(with_facts, DERIVED, "pred_derived", "gold_derived"),
        "errors": [
            {
                "text": r["text"],
                "missing": sorted(r["gold"] - {p for p in r["pred"] if p[0] in TYPES}),
                "extra": sorted({p for p in r["pred"] if p[0] in TYPES} - r["gold"]),
            }
            for r in rows
            if {p for p in r["pred"] if p[0] in TYPES} != r["gold"]
        ],
        "derived_errors": [
            {
                "text": r["text"],
                "missing": sorted(r["gold_derived"] - r["pred_derived"]),
                "extra": sorted(r["pred_derived"] - r["gold_derived"]),
            }
            for r in with_facts
            if r["pred_derived"] != r["gold_derived"]
        ],
    }
    write_json(Path(args.out) / "entities.json", result)
    s = result["scores"]
    print(
        "entities: " + ", ".join(f"{t} P {s[t]['precision'] or 0:.3f} R {s[t]['recall'] or 0:.3f}" for t in TYPES),
        flush=True,
    )
    d = result["derived_scores"]
    print(
        "derived facts: "
        + ", ".join(f"{t} P {d[t]['precision'] or 0:.3f} R {d[t]['recall'] or 0:.3f}" for t in DERIVED),
        flush=True,
    )


if __name__ == "__main__":
    main()
