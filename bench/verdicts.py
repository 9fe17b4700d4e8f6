"""The report's decision rules, from the per-message predictions of the accuracy jobs (bench/out/nlu/).

Paired comparisons between pipelines (McNemar's exact test on the same messages), pooled scores
(held-out + every CV fold), and the two verdicts of docs/benchmarks.md: does the chosen pipeline win
(section 1.1), and does the question focus stay (section 1.5, `PairedEvidence.focus_decision`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from bench.common import read_json

REFERENCE = "no_focus"  # the pipeline before issue 11's question focus
Records = List[Dict[str, Any]]


def macro_f1(recs: Records) -> float:
    """Macro-F1 over the gold intents."""
    from sklearn.metrics import f1_score

    gold = [r["gold"] for r in recs]
    pred = [r["final"] for r in recs]
    return float(f1_score(gold, pred, labels=sorted(set(gold)), average="macro", zero_division=0))


class PairedEvidence:
    """The accuracy section's results (`nlu/results.json`) plus the job files holding every prediction."""

    def __init__(self, out: Path, nlu: Dict[str, Any]) -> None:
        self.out = out
        self.nlu = nlu
        self.variants: Dict[str, Any] = nlu["variants"]

    def records(self, variant: str, part: str) -> Optional[Records]:
        """Per-message predictions: "heldout", "cv" (every fold) or "realistic" (tests/realistic_nlu.yml)."""
        d = self.out / "nlu" / variant
        if part in ("heldout", "realistic"):
            p = d / "job-heldout.json"
            if not p.exists():
                return None
            job = read_json(p)
            return job["records"] if part == "heldout" else (job.get("realistic") or {}).get("records")
        k = self.nlu["folds"]
        files = [d / f"job-{i}.json" for i in range(k)] if k > 1 else []
        if not files or not all(p.exists() for p in files):
            return None
        return [r for p in files for r in read_json(p)["records"]]

    def records_of(self, variant: str, part: str) -> Optional[Records]:
        """Records of one split, or of both pooled ("pooled": held-out + every CV fold)."""
        if part != "pooled":
            return self.records(variant, part)
        h, cv = self.records(variant, "heldout"), self.records(variant, "cv")
        return h + cv if h and cv else None

    def mcnemar(self, other: str, part: str) -> Optional[Dict[str, Any]]:
        """Chosen against `other` on the same messages: who alone gets each right, and the exact test's p."""
        from scipy.stats import binomtest

        a, b = self.records_of("chosen", part), self.records_of(other, part)
        if not a or not b or len(a) != len(b) or any(x["text"] != y["text"] for x, y in zip(a, b)):
            return None
        only_a = sum(x["final"] == x["gold"] and y["final"] != y["gold"] for x, y in zip(a, b))
        only_b = sum(x["final"] != x["gold"] and y["final"] == y["gold"] for x, y in zip(a, b))
        p = binomtest(min(only_a, only_b), only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
        return {"only_chosen": only_a, "only_other": only_b, "p": p}

    def pooled_scores(self, variant: str) -> Optional[Dict[str, float]]:
        """Accuracy and macro-F1 over the held-out and the cross-validation predictions together."""
        recs = self.records_of(variant, "pooled")
        if not recs:
            return None
        return {
            "n": len(recs),
            "accuracy": sum(r["gold"] == r["final"] for r in recs) / len(recs),
            "macro_f1": macro_f1(recs),
        }

    def chosen_wins(self) -> Dict[str, Any]:
        """The rule: best pooled accuracy and macro-F1 (held-out + CV predictions), and no
        other pipeline significantly better (paired p < 0.05) on either split alone.

        Pooling is decided up front because the two splits can disagree by a few messages
        either way; a pipeline only evaluated on held-out (DIET without --diet-cv) is
        compared there.
        """
        v = self.variants
        lost: List[str] = []
        behind: List[str] = []
        mine = self.pooled_scores("chosen")
        for name, r in v.items():
            if name in ("chosen", REFERENCE):  # the focus decision has its own rule (focus_decision)
                continue
            theirs = self.pooled_scores(name)
            if mine and theirs:
                keys = [k for k in ("accuracy", "macro_f1") if theirs[k] > mine[k] + 1e-12]
                if keys:
                    m = self.mcnemar(name, "pooled")
                    lost.append(
                        f"pooled {' and '.join(k.replace('_', '-') for k in keys)} below {r['label']}"
                        + (f" (paired p = {m['p']:.2g})" if m else "")
                    )
            elif r.get("heldout"):
                keys = [k for k in ("accuracy", "macro_f1") if r["heldout"][k] > v["chosen"]["heldout"][k] + 1e-12]
                if keys:
                    lost.append(f"held-out {' and '.join(k.replace('_', '-') for k in keys)} below {r['label']}")
                continue  # its one comparison is the held-out one just made
            for part in ("heldout", "cv"):
                if not r.get(part) or not v["chosen"].get(part):
                    continue
                keys = [k for k in ("accuracy", "macro_f1") if r[part][k] > v["chosen"][part][k] + 1e-12]
                if not keys:
                    continue
                m = self.mcnemar(name, part)
                split = "CV" if part == "cv" else "held-out"
                where = f"{split} {' and '.join(k.replace('_', '-') for k in keys)} below {r['label']}"
                if m and m["p"] < 0.05 and m["only_other"] > m["only_chosen"]:
                    lost.append(f"{where} (paired p = {m['p']:.2g}: significant)")
                else:
                    behind.append(where + (f" (paired p = {m['p']:.2g}: not significant)" if m else ""))
        return {"all": not lost, "lost": lost, "behind": behind}

    def focus_evidence(self) -> Records:
        """chosen vs no_focus, paired, on CV over data/nlu, the realistic set, and held-out (shown, not in the rule)."""
        v = self.variants
        if REFERENCE not in v or "chosen" not in v:
            return []
        names = {
            "cv": f"{self.nlu['folds']}-fold CV over data/nlu",
            "realistic": "realistic set (tests/realistic_nlu.yml)",
            "heldout": "held-out tests/test_nlu.yml (not in the rule)",
        }
        sets = []
        for part in ("cv", "realistic", "heldout"):
            a, b = self.records("chosen", part), self.records(REFERENCE, part)
            m = self.mcnemar(REFERENCE, part)
            if not a or not b or not m:
                continue
            acc = [sum(r["final"] == r["gold"] for r in x) / len(x) for x in (a, b)]
            if part == "cv":
                f1 = [v["chosen"]["cv"]["macro_f1"], v[REFERENCE]["cv"]["macro_f1"]]
            else:
                f1 = [macro_f1(a), macro_f1(b)]
            net = m["only_chosen"] - m["only_other"]
            sets.append(
                {
                    "part": part,
                    "label": names[part],
                    "n": len(a),
                    "accuracy": acc,
                    "macro_f1": f1,
                    **m,
                    "ahead": net > 0,
                    "behind": net < 0,
                    "significant": m["p"] < 0.05,
                }
            )
        return sets

    def focus_decision(self) -> Optional[Dict[str, Any]]:
        """Issue 11's rule: the question focus (chosen) stays over today's pipeline without it (no_focus) when, on
        cross-validation and on the realistic set, (1) it gets more messages right on at least one of the two,
        (2) no_focus is significantly better on neither (paired McNemar p < 0.05), (3) where it is behind at all,
        it is significantly ahead on the other set, and (4) its live-emergency recall on the realistic set is not
        lower. Without both sets in the run (--quick has no CV) there is no verdict."""
        v = self.variants
        evidence = self.focus_evidence()
        if not evidence:
            return None
        sets = [e for e in evidence if e["part"] in ("cv", "realistic")]
        live = [(v[n].get("realistic") or {}).get("live_emergency_recall") for n in ("chosen", REFERENCE)]

        def desc(e: Dict[str, Any]) -> str:
            delta = 100 * (e["accuracy"][0] - e["accuracy"][1])
            return (
                f"{'CV' if e['part'] == 'cv' else 'realistic'} {delta:+.1f} points "
                f"({e['only_chosen']} vs {e['only_other']} messages, p = {e['p']:.2g})"
            )

        result = {"sets": sets, "evidence": evidence, "live": live}
        if len(sets) < 2:
            have = ", ".join(desc(e) for e in sets) or "no paired data"
            return {
                **result,
                "wins": None,
                "failed": [],
                "summary": f"no verdict: needs both CV and the realistic set; {have}",
            }
        failed = []
        if not any(e["ahead"] for e in sets):
            failed.append("not ahead on either set")
        for e in sets:
            if e["behind"] and e["significant"]:
                failed.append(f"significantly behind on the {e['label']}")
            elif e["behind"] and not any(o is not e and o["ahead"] and o["significant"] for o in sets):
                failed.append(f"behind on the {e['label']} without a significant gain on the other set")
        if None not in live and live[0] < live[1]:
            failed.append(f"live-emergency recall lower ({live[0]:.3f} vs {live[1]:.3f})")
        evidence_text = "; ".join(desc(e) for e in sets)
        summary = f"yes: {evidence_text}" if not failed else f"no: {'; '.join(failed)} ({evidence_text})"
        return {**result, "wins": not failed, "failed": failed, "summary": summary}
