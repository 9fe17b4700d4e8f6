"""Write docs/benchmarks.md and docs/img/bench_*.png from the raw results in bench/out/.

    python -m bench.run --only report     # or: python -m bench.report [OUT [DOCS]]

Every number in the report is read from bench/out/*.json, which `make bench`
writes in the same run; nothing here is typed in by hand. The prose is the
Jinja2 template bench/report_template.md.j2; each function below computes the
values of one section of it, and the template formats them.
"""

from __future__ import annotations

import re
import statistics
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import plots  # noqa: E402
from bench.common import DOCS, IMG, OUT, read_json  # noqa: E402
from bench.verdicts import REFERENCE, PairedEvidence  # noqa: E402

TEMPLATE = Path(__file__).resolve().with_name("report_template.md.j2")
TARGETS = {
    "p95_ms": 40.0,
    "ratio_10": 4.0,
    "startup_s": 25.0,
    "rss_gb": 1.0,
    "script_gap": 2.0,
    # Issue 11 (realistic set tests/realistic_nlu.yml, chosen pipeline; speed with the realistic set as the load)
    "realistic": 0.93,
    "kind": 0.85,
    "oos": 0.90,
    "live_emergency": 1.0,
    "parse_200_ms": 10.0,
    # Issue 14: a turn late in a long conversation costs about what an early one does
    "length_ratio": 1.3,
}
T = TARGETS  # short name for the many comparisons below
MiB = 2**20
Result = Dict[str, Any]
Section = Optional[Dict[str, Any]]


# ---------------------------------------------------------------------- formatting (template filters)
def f(x: Optional[float], digits: int = 1, unit: str = "") -> str:
    return "–" if x is None else f"{x:,.{digits}f}{unit}"


def pct(x: Optional[float], digits: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f} %"


def ok(flag: Optional[bool]) -> str:
    return "–" if flag is None else ("**met**" if flag else "**missed**")


def la(x: Optional[List[float]]) -> str:
    return " / ".join(f"{v:.1f}" for v in x) if x else "–"


def fmt(x: Any, spec: str) -> str:
    return format(x, spec)


def bold(text: str, flag: bool) -> str:
    return f"**{text}**" if flag else text


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


# ---------------------------------------------------------------------- results
@dataclass
class Results:
    """The raw results of one `make bench` run (None: the section was not run)."""

    out: Path
    meta: Result
    nlu: Optional[Result]
    ent: Optional[Result]
    ent_dict: Optional[Result]
    ours: Optional[Result]
    starter: Optional[Result]
    fixes: Optional[Result]
    scale: Optional[Result]
    length: Optional[Result]

    @cached_property
    def evidence(self) -> PairedEvidence:
        return PairedEvidence(self.out, self.nlu or {"variants": {}, "folds": 0})

    @property
    def workers(self) -> Result:
        """The 2-workers + Redis run of the fixes section ({} when not run)."""
        return (self.fixes or {}).get("workers") or {}


def load_results(out: Path) -> Results:
    def load(rel: str) -> Optional[Any]:
        p = out / rel
        return read_json(p) if p.exists() else None

    return Results(
        out=out,
        meta=load("meta.json") or {},
        nlu=load("nlu/results.json"),
        ent=load("entities/entities.json"),
        ent_dict=load("entities_userdict/entities.json"),
        ours=load("ours/result.json"),
        starter=load("starter/result.json"),
        fixes=load("fixes/result.json"),
        scale=load("scale/result.json"),
        length=load("length/result.json"),
    )


def peak_rss(r: Result) -> int:
    peaks = [(x.get("peak_rss_bytes") or {}).get("rasa", 0) for x in r["load"].values()]
    return max(
        peaks + [r["memory_idle"]["rasa_rss_bytes"], (r.get("memory_after_tracker") or {}).get("rasa_rss_bytes", 0)]
    )


def workers_rss_mib(wk: Result) -> float:
    return max((x.get("peak_rss_bytes") or {}).get("rasa", 0) for x in wk["load"].values()) / 2**20


# ---------------------------------------------------------------------- figures
def write_figures(r: Results, img: Path) -> Dict[str, Path]:
    figs: Dict[str, Path] = {}
    if r.nlu:
        v = r.nlu["variants"]
        figs["variants"] = plots.variants(v, {k: x["label"] for k, x in v.items()}, img / "bench_intent_variants.png")
        chosen = v["chosen"]
        series = {"held-out": chosen["heldout"]["per_intent_f1"]}
        if chosen.get("cv"):
            series["5-fold CV"] = chosen["cv"]["per_intent_f1"]
        figs["per_intent"] = plots.per_intent(series, img / "bench_per_intent_f1.png")
        held = read_json(r.out / "nlu/chosen/job-heldout.json")["records"]
        figs["confusion"] = plots.confusion(
            held,
            "Chosen pipeline, held-out tests/test_nlu.yml (counts; colour = row share)",
            img / "bench_confusion_heldout.png",
        )
        if chosen.get("cv"):
            recs = []
            for i in range(r.nlu["folds"]):
                recs += read_json(r.out / f"nlu/chosen/job-{i}.json")["records"]
            figs["confusion_cv"] = plots.confusion(
                recs,
                "Chosen pipeline, 5-fold CV over data/nlu (counts; colour = row share)",
                img / "bench_confusion_cv.png",
            )
        real = {x["label"]: x["realistic"]["kinds"] for x in v.values() if x.get("realistic")}
        if real:
            figs["realistic"] = plots.realistic_kinds(real, T["kind"], img / "bench_realistic_kinds.png")
    bots = {k: x for k, x in (("ours", r.ours), ("starter", r.starter)) if x}
    if bots:
        with_fixes = dict(bots, **({"ours before the fixes": r.fixes} if r.fixes else {}))
        if r.workers.get("load"):
            with_fixes["ours, 2 workers + Redis"] = r.workers
        figs["latency"] = plots.latency(with_fixes, img / "bench_latency.png")
        figs["tracker"] = plots.tracker({k: x.get("tracker") or [] for k, x in bots.items()}, img / "bench_tracker.png")
    if r.length:
        figs["length"] = plots.length(r.length["settings"], img / "bench_length.png")
    if r.scale and len(r.scale["rows"]) > 1:
        figs["scale"] = plots.scale(r.scale["rows"], img / "bench_scale.png")
    return figs


# ---------------------------------------------------------------------- header and targets
def header(r: Results) -> Section:
    m = r.meta
    secs = m.get("sections") or {}
    jobs = (r.nlu or {}).get("job_seconds") or {}
    longest = max(jobs.items(), key=lambda kv: kv[1]) if "nlu" in secs and jobs else None
    la_start = m.get("loadavg_at_start") or [0]
    busy = bool(la_start) and la_start[0] > 0.5 * (m.get("nproc") or 2)
    return {
        "quick": (m.get("settings") or {}).get("quick"),
        "partial": set(m.get("sections_run") or secs) != set(secs),
        "sections_run": ", ".join(m.get("sections_run") or []),
        **{
            k: m.get(k, "–")
            for k in ("date_utc", "git_commit", "nproc", "cpu_model", "memory_gb", "os", "python", "rasa", "command")
        },
        "dirty": m.get("git_dirty"),
        "wall_minutes": (m.get("wall_seconds") or 0) / 60,
        "loadavg_start": m.get("loadavg_at_start"),
        "loadavg_end": m.get("loadavg_at_end"),
        "sections": [
            {
                "name": name,
                "date": t.get("date_utc") or "–",
                "commit": f"`{t['git_commit'][:7]}`" if t.get("git_commit") else "–",
                "wall_minutes": t["wall_seconds"] / 60,
                "cpu_minutes": t["cpu_seconds"] / 60,
            }
            for name, t in secs.items()
        ],
        "longest_job": {"name": longest[0], "minutes": longest[1] / 60} if longest else None,
        "busy": {"load": la_start[0], "nproc": m.get("nproc")} if busy else None,
    }


def _ours_targets(r: Results) -> Section:
    o, s = r.ours, r.starter
    if not o:
        return None
    p95 = o["load"]["1"]["p95_ms"]
    startup = max(o["startup_seconds"])
    rss_gb = peak_rss(o) / 2**30
    throughput = None
    if s:
        ours10, starter10 = o["load"]["10"]["throughput_tps"], s["load"]["10"]["throughput_tps"]
        ratio = _ratio(ours10, starter10)
        wk = r.workers
        workers = (
            {
                "ratio": wk["load"]["10"]["throughput_tps"] / starter10,
                "workers": wk["workers"],
                "rss_mib": workers_rss_mib(wk),
            }
            if wk.get("load")
            else None
        )
        throughput = {
            "ratio": ratio,
            "ours": ours10,
            "starter": starter10,
            "workers": workers,
            "met": ratio >= T["ratio_10"],
        }
    return {
        "p95": p95,
        "p95_met": p95 <= T["p95_ms"],
        "throughput": throughput,
        "startup": startup,
        "startup_met": startup <= T["startup_s"],
        "rss_mib": rss_gb * 1024,
        "rss_met": rss_gb <= T["rss_gb"],
    }


def _nlu_targets(r: Results) -> Section:
    if not r.nlu:
        return None
    variants = r.nlu["variants"]
    c = variants["chosen"]
    s2t = c.get("heldout_s2t") or {}
    paired = 100 * (s2t.get("accuracy_simplified", 0) - s2t.get("accuracy_as_traditional", 0))
    cv_s2t = (c.get("cv") or {}).get("s2t")
    cv_paired = 100 * (cv_s2t["accuracy_simplified"] - cv_s2t["accuracy_as_traditional"]) if cv_s2t else None
    others = [n for n in variants if n not in ("chosen", REFERENCE)]
    return {
        "gap": c["heldout"].get("script_gap_points") or 0,
        "paired": paired,
        "cv_paired": cv_paired,
        "script_met": abs(paired) < T["script_gap"] and (cv_paired is None or abs(cv_paired) < T["script_gap"]),
        "letters": ", ".join(variants[n]["label"].split(" ")[0] for n in others),
        "candidates": len(others) + 1,
        "wins": r.evidence.chosen_wins(),
        "focus": r.evidence.focus_decision(),
    }


def _realistic_targets(r: Results) -> Section:
    """Issue 11's targets: the realistic set with the chosen pipeline, speed with the realistic set as the load."""
    real = ((r.nlu or {}).get("variants", {}).get("chosen") or {}).get("realistic")
    lr = ((r.ours or {}).get("load_realistic") or {}).get("1")
    pl = ((r.ours or {}).get("parse_latency") or {}).get("chars200")
    if not (real or lr or pl):
        return None
    sec: Dict[str, Any] = {
        "real": None,
        "load": lr and {**lr, "met": lr["p95_ms"] <= T["p95_ms"]},
        "parse": pl and {**pl, "met": pl["p95_ms"] <= T["parse_200_ms"]},
    }
    if real:
        kinds = real["kinds"]
        below = sorted((k for k in kinds if kinds[k]["accuracy"] < T["kind"]), key=lambda k: kinds[k]["accuracy"])
        worst = min(kinds, key=lambda k: kinds[k]["accuracy"])
        different = 100 * (real["simplified_accuracy"] - real["traditional_accuracy"])
        sec["real"] = {
            **real,
            "accuracy_met": real["accuracy"] >= T["realistic"],
            "n_kinds": len(kinds),
            "below": [{"name": k, **kinds[k]} for k in below],
            "worst": {"name": worst, **kinds[worst]},
            "n_oos": sum(1 for x in r.evidence.records("chosen", "realistic") or [] if x["gold"] == "out_of_scope"),
            "oos_met": real["out_of_scope_recall"] >= T["oos"],
            "n_live": (kinds.get("live_emergency") or {}).get("n", "–"),
            "live_met": real["live_emergency_recall"] >= T["live_emergency"],
            "converted_met": abs(real["script_gap_points"]) <= T["script_gap"],
            "different_gap": different,
            "different_met": abs(different) <= T["script_gap"],
        }
    return sec


def _length_targets(r: Results) -> Section:
    """Issue 14: turn cost does not grow with the conversation (segments on, the shipped default)."""
    on = ((r.length or {}).get("settings") or {}).get("segments-on")
    if not on:
        return None
    s = on["summary"]
    return {
        **s,
        "conversation_turns": r.length["turns"],
        "ratio_met": s["ratio_last_first"] <= T["length_ratio"],
        "p95_met": s["p95_ms"] <= T["p95_ms"],
    }


def summary(r: Results) -> Section:
    if not (r.ours or r.nlu):
        return None
    fixes = None
    if r.fixes and r.ours:
        fixes = {"before": r.fixes["load"], "after": r.ours["load"]}
    return {
        "ours": _ours_targets(r),
        "nlu": _nlu_targets(r),
        "realistic": _realistic_targets(r),
        "length": _length_targets(r),
        "fixes": fixes,
    }


def reproduce(r: Results) -> Section:
    s = r.meta.get("settings") or {}
    # every section's own wall time: right after a `--only` run too
    total = sum(t["wall_seconds"] for t in (r.meta.get("sections") or {}).values()) or r.meta.get("wall_seconds")
    return {
        "minutes": (total or 0) / 60,
        "folds": s.get("folds", 5),
        "jobs": s.get("jobs", 2),
        "diet_cv": s.get("diet_cv"),
        "scale_factors": ", ".join(str(k) for k in s.get("scale_factors", [1, 2, 4]) if k > 1),
        "turns_per_conversation": s.get("turns_per_conversation", 8),
        "warmup": s.get("warmup"),
        "duration": s.get("duration"),
    }


# ---------------------------------------------------------------------- 1. intent classification
def accuracy(r: Results) -> Section:
    if not r.nlu:
        return None
    v = r.nlu["variants"]
    ev = r.evidence
    best = {}
    for part in ("heldout", "cv"):
        for key in ("accuracy", "macro_f1"):
            vals = [x[part][key] for x in v.values() if x.get(part)]
            best[(part, key)] = max(vals) if vals else None

    def is_best(x: Result, part: str, key: str) -> bool:
        return best[(part, key)] is not None and abs(x[part][key] - best[(part, key)]) < 1e-12

    pipelines = []
    for name, x in v.items():
        h, cv = x["heldout"], x.get("cv")
        pipelines.append(
            {
                "name": name,
                "label": x["label"],
                "heldout": h,
                "cv": cv,
                "best": {
                    f"{part}_{key}": bool(x.get(part)) and is_best(x, part, key)
                    for part in ("heldout", "cv")
                    for key in ("accuracy", "macro_f1")
                },
                "oos_heldout": h.get("oos", {}).get("recall"),
                "oos_cv": (cv or {}).get("oos", {}).get("recall"),
                "mcnemar": {part: ev.mcnemar(name, part) for part in ("heldout", "cv")} if name != "chosen" else {},
                "train_seconds": x["train_seconds"],
                "model_mib": (x["model_bytes"] or 0) / MiB if x["model_bytes"] else None,
                "parse_p50": (h.get("parse_ms") or {}).get("p50"),
                "parse_p95": (h.get("parse_ms") or {}).get("p95"),
            }
        )
    diet = None  # Rasa's default DIET pipeline is cross-validated only with --diet-cv (slow)
    if "default_jieba" in v and not v["default_jieba"].get("cv") and r.nlu["folds"] > 1:
        t = (r.nlu.get("job_seconds") or {}).get("default_jieba-heldout")
        diet = {"minutes": t / 60 if t else None, "cv_minutes": 5 * 0.8 * t / 60 / 2 if t else None}
    cv = v["chosen"].get("cv")
    return {
        "folds": r.nlu["folds"],
        "n_train": str(cv["n"]) if cv else "all",
        "n_heldout": v["chosen"]["heldout"]["n"],
        "n_inputs": len({p for x in v.values() for p in x.get("inputs") or []}),
        "pipelines": pipelines,
        "diet": diet,
        "pooled": _pooled(r),
        "reference": v[REFERENCE]["label"] if REFERENCE in v else None,
        "wins": ev.chosen_wins(),
        "scripts": _scripts(v),
        "per_intent": _per_intent(r),
        "realistic": _realistic(r),
        "focus": _focus(r),
    }


def _pooled(r: Results) -> Section:
    v = r.nlu["variants"]
    scores = [(name, r.evidence.pooled_scores(name)) for name in v]
    rows = [
        {"label": v[n]["label"], **sc, "mcnemar": r.evidence.mcnemar(n, "pooled") if n != "chosen" else None}
        for n, sc in scores
        if sc
    ]
    if not rows:
        return None
    best_a = max(x["accuracy"] for x in rows)
    best_f = max(x["macro_f1"] for x in rows)
    for x in rows:
        x.update(best_accuracy=x["accuracy"] == best_a, best_macro_f1=x["macro_f1"] == best_f)
    return {"n": rows[0]["n"], "rows": rows, "missing": [v[n]["label"] for n, sc in scores if not sc]}


def _scripts(v: Result) -> Result:
    rows = []
    for x in v.values():
        p, cv = x.get("heldout_s2t") or {}, x.get("cv")
        cv_s2t = (cv or {}).get("s2t")
        rows.append(
            {
                "label": x["label"],
                "heldout": x["heldout"],
                "gap": x["heldout"].get("script_gap_points"),
                "s2t_simplified": p.get("accuracy_simplified"),
                "s2t_traditional": p.get("accuracy_as_traditional"),
                "cv": cv,
                "cv_s2t": cv_s2t,
                "paired_gap": 100 * (p.get("accuracy_simplified", 0) - p.get("accuracy_as_traditional", 0))
                if p
                else None,
                "cv_paired_gap": (
                    100 * (cv_s2t["accuracy_simplified"] - cv_s2t["accuracy_as_traditional"]) if cv_s2t else None
                ),
            }
        )
    c = v["chosen"]
    h = c["heldout"]
    s2t = c.get("heldout_s2t") or {}
    n_t = h["traditional"]["n"]
    oos = h.get("oos") or {}
    return {
        "rows": rows,
        "heldout": h,
        "n_traditional": n_t,
        "one_message_points": 100 / max(1, n_t),
        "se_points": 100 * (h["traditional"]["accuracy"] * (1 - h["traditional"]["accuracy"]) / max(1, n_t)) ** 0.5,
        "chosen_paired_gap": 100 * (s2t.get("accuracy_simplified", 0) - s2t.get("accuracy_as_traditional", 0)),
        "changed": s2t.get("changed", "–"),
        "n_paired": s2t.get("n", "–"),
        "oos": _oos(oos),
        "oos_points_per_message": 100 / max(1, oos.get("n", 1)),
        "cv_oos": _oos((c.get("cv") or {}).get("oos") or {}),
    }


def _oos(d: Result) -> Result:
    return {"n": d.get("n", "–"), **{k: d.get(k) for k in ("recall", "declined", "precision")}}


def _per_intent(r: Results) -> Result:
    v = r.nlu["variants"]
    held = read_json(r.out / "nlu/chosen/job-heldout.json")["records"]
    errors = Counter((x["gold"], x["final"]) for x in held if x["gold"] != x["final"])
    cv = v["chosen"].get("cv")
    return {
        "labels": [x["label"] for x in v.values()],
        "has_cv": bool(cv),
        "rows": [
            {
                "intent": i,
                "f1": [x["heldout"]["per_intent_f1"].get(i, 0) for x in v.values()],
                "cv": cv["per_intent_f1"].get(i, 0) if cv else None,
            }
            for i in sorted(v["chosen"]["heldout"]["per_intent_f1"])
        ],
        "errors": [{"gold": g, "predicted": p, "n": n} for (g, p), n in errors.most_common(10)],
    }


def _realistic(r: Results) -> Section:
    v = r.nlu["variants"]
    rows = [(n, x, x["realistic"]) for n, x in v.items() if x.get("realistic")]
    if not rows:
        return None
    c = v["chosen"].get("realistic") or rows[0][2]
    kinds = sorted(c["kinds"], key=lambda k: c["kinds"][k]["accuracy"])
    paired = [(x, r.evidence.mcnemar(n, "realistic")) for n, x, _ in rows if n != "chosen"]
    return {
        "chosen": c,
        "n_also": sum(1 for x in r.evidence.records("chosen", "realistic") or [] if x.get("also")),
        "rows": [
            {
                "label": x["label"],
                **real,
                "different_gap": 100 * (real["simplified_accuracy"] - real["traditional_accuracy"]),
            }
            for _, x, real in rows
        ],
        "kinds": [
            {
                "name": k,
                "n": c["kinds"][k]["n"],
                "accuracy": [(real["kinds"].get(k) or {}).get("accuracy") for _, _, real in rows],
            }
            for k in kinds
        ],
        "paired": [{"label": x["label"], **m} for x, m in paired if m],
        "confusions": [(confusion.replace(" -> ", " → "), n) for confusion, n in (c.get("confusions") or [])[:10]],
        "missed": [e for e in c.get("errors") or [] if "live_emergency" in e["kinds"]],
    }


def _focus(r: Results) -> Section:
    d = r.evidence.focus_decision()
    if not d:
        return None
    v = r.nlu["variants"]
    c, ref = v["chosen"], v[REFERENCE]
    rc, rr = (c.get("realistic") or {}).get("parse_seconds"), (ref.get("realistic") or {}).get("parse_seconds")

    def cost(x: Result) -> Result:
        parse = x["heldout"].get("parse_ms") or {}
        return {
            "train_seconds": x["train_seconds"],
            "model_mib": (x["model_bytes"] or 0) / MiB,
            "parse_p50": parse.get("p50"),
            "parse_p95": parse.get("p95"),
        }

    return {
        "reference": ref["label"],
        "evidence": d["evidence"],
        "live": d["live"],
        "kinds": _focus_kinds(r),
        "cost": {"chosen": cost(c), "other": cost(ref), "realistic_seconds": [rc, rr] if rc and rr else None},
        "wins": d["wins"],
        "verdict": d["summary"].split(": ", 1)[1],  # without its "yes: ", "no: " or "no verdict: "
    }


def _focus_kinds(r: Results) -> Optional[List[Result]]:
    v = r.nlu["variants"]
    c, ref = v["chosen"].get("realistic"), v[REFERENCE].get("realistic")
    crec = r.evidence.records("chosen", "realistic") or []
    rrec = r.evidence.records(REFERENCE, "realistic") or []
    if not c or not ref or len(crec) != len(rrec):
        return None

    def delta(k: str) -> float:
        return c["kinds"][k]["accuracy"] - ref["kinds"].get(k, {}).get("accuracy", 0.0)

    rows = []
    for k in sorted((k for k in c["kinds"] if k in ref["kinds"]), key=delta):
        both = [(x, y) for x, y in zip(crec, rrec) if k in (x["kinds"] or ["plain"])]
        rows.append(
            {
                "name": k,
                "n": c["kinds"][k]["n"],
                "chosen": c["kinds"][k]["accuracy"],
                "other": ref["kinds"][k]["accuracy"],
                "delta": 100 * delta(k),
                "only_chosen": sum(x["final"] == x["gold"] and y["final"] != y["gold"] for x, y in both),
                "only_other": sum(x["final"] != x["gold"] and y["final"] == y["gold"] for x, y in both),
            }
        )
    return rows


# ---------------------------------------------------------------------- 2. entity extraction
def entities(r: Results) -> Section:
    e = r.ent
    if not e:
        return None
    names = {"overdue_duration": "overdue_duration (duration)"}
    rows = []
    for t in ("amount", "bank", "overdue_duration", "relation", "all"):
        rows.append(
            {
                "name": names.get(t, t),
                **e["scores"][t],
                "sentences": e["sentences"] if t == "all" else e["sentences_per_type"].get(t, "–"),
                "userdict": r.ent_dict["scores"][t] if r.ent_dict else None,
            }
        )
    return {
        **e,
        "rows": rows,
        "userdict": bool(r.ent_dict),
        "errors": [
            {
                "text": err["text"],
                "missed": ", ".join(f"{t}={x}" for t, x in err["missing"]) or "–",
                "extra": ", ".join(f"{t}={x}" for t, x in err["extra"]) or "–",
            }
            for err in e["errors"]
        ],
    }


# ---------------------------------------------------------------------- 3. speed and cost
def speed(r: Results) -> Section:
    o, s = r.ours, r.starter
    if not o:
        return None
    wk = r.workers
    bots = (
        ("ours", o),
        ("starter", s),
        ("ours before the fixes of 3.3", r.fixes),
        (f"ours, {wk.get('workers', 2)} workers + Redis locks (a connection per request)", wk),
    )
    levels = [
        {"level": c, "bot": name, **x["load"][c]}
        for c in ("1", "10", "50")
        for name, x in bots
        if x and c in x.get("load", {})
    ]

    def ratios(a: Result) -> List[Result]:
        return [
            {
                "level": c,
                **{k: _ratio(a[c][k], s["load"][c][k]) for k in ("throughput_tps", "p50_ms", "p95_ms", "p99_ms")},
            }
            for c in ("1", "10", "50")
            if c in a
        ]

    return {
        "levels": levels,
        # ours / starter, then (when measured) 2 workers + Redis / starter
        "ratio_tables": ([ratios(o["load"])] + ([ratios(wk["load"])] if wk.get("load") else [])) if s else [],
        "realistic": _realistic_speed(o),
        "parse": _parse_latency(o),
        "first_turn": {"ours": o["first_turn_ms"], "starter": s["first_turn_ms"] if s else None},
        "cost": _cost(o, s),
        "profile": _profile(r),
        "scale": _scale(r),
        "tracker": _tracker(o, s),
        "length": _length(r),
    }


def _realistic_speed(o: Result) -> Section:
    lr = (o.get("load_realistic") or {}).get("1")
    if not lr:
        return None
    return {
        **lr,
        "messages": lr.get("messages", "–"),
        "heldout_load": o["load"]["1"],
        "met": lr["p95_ms"] <= T["p95_ms"],
    }


def _parse_latency(o: Result) -> Section:
    pl = o.get("parse_latency") or {}
    if not pl.get("chars200"):
        return None
    c = pl["chars200"]
    split = pl.get("chars200_components")
    return {
        "passes": pl.get("passes", "–"),
        "loadavg_before": pl.get("loadavg_before"),
        "loadavg_after": pl.get("loadavg_after"),
        "rows": [
            {"label": label, **pl[key]}
            for label, key in (("200 characters each", "chars200"), ("realistic set as written", "realistic"))
            if pl.get(key)
        ],
        "met": c["p95_ms"] <= T["parse_200_ms"],
        "split": split
        and {
            "whole_ms": split["whole_parse_ms"],
            "nodes": [
                {"name": n, "ms": ms, "share": ms / split["whole_parse_ms"]}
                for n, ms in split["nodes_ms"].items()
                if ms >= 0.05
            ],
        },
    }


def _cost(o: Result, s: Optional[Result]) -> Result:
    def row(a: float, b: Optional[float]) -> Result:
        return {"ours": a, "starter": b, "ratio": _ratio(a, b) if b else None}

    act = [(x.get("peak_rss_bytes") or {}).get("action_server", 0) for x in o["load"].values()]
    return {
        "runs": len(o["startup_seconds"]),
        "startup": row(statistics.median(o["startup_seconds"]), statistics.median(s["startup_seconds"]) if s else None),
        "startup_each": {"ours": o["startup_seconds"], "starter": s["startup_seconds"] if s else None},
        "rss_idle": row(
            o["memory_idle"]["rasa_rss_bytes"] / MiB, s["memory_idle"]["rasa_rss_bytes"] / MiB if s else None
        ),
        "rss_peak": row(peak_rss(o) / MiB, peak_rss(s) / MiB if s else None),
        "action_idle_mib": o["memory_idle"]["action_server_rss_bytes"] / MiB,
        "action_peak_mib": max(act) / MiB,
        "train": row(o["train_seconds"], s["train_seconds"] if s else None),
        "model": row(o["model_bytes"] / MiB, s["model_bytes"] / MiB if s else None),
    }


def _profile(r: Results) -> Result:
    o, fx = r.ours, r.fixes
    p = o.get("profile") or {}
    rasa = p.get("rasa") or {}
    action = p.get("action_server") or {}
    return {
        "available": p.get("available"),
        "reason": p.get("reason", "profiling off"),
        "seconds": p.get("seconds"),
        "load": p.get("load_under_profiler"),
        "rasa_error": rasa["error"].strip()[:300] if "error" in rasa else None,
        "rasa": rasa,
        "action_busy": action.get("busy_share") if action and "error" not in action else None,
        "action_ok": bool(action) and "error" not in action,
        "fixes": fx
        and {
            "before": fx["load"],
            "after": o["load"],
            "first_turn_before": fx["first_turn_ms"],
            "first_turn_after": o["first_turn_ms"],
            "p95_met": o["load"]["1"]["p95_ms"] <= T["p95_ms"],
            "floor": _floor(r),
            "each": fx.get("each"),
        },
    }


def _floor(r: Results) -> Section:
    """Rasa's least possible turn against the throughput target; and what 2 workers + Redis reached."""
    o, fx, st = r.ours, r.fixes, r.starter
    fl = ((fx or {}).get("floor") or {}).get("load") or {}
    if not (fl and st):
        return None
    starter10 = st["load"]["10"]["throughput_tps"]
    need = T["ratio_10"] * starter10
    floor10 = fl["10"]["throughput_tps"]
    wk = r.workers
    workers = None
    if wk.get("load"):
        t10 = wk["load"]["10"]["throughput_tps"]
        rss = workers_rss_mib(wk)
        workers = {
            "n": wk["workers"],
            "tps": t10,
            "vs_one": t10 / o["load"]["10"]["throughput_tps"],
            "vs_starter": t10 / starter10,
            "short": t10 / starter10 < T["ratio_10"],
            "rss_mib": rss,
            "over_memory": rss > T["rss_gb"] * 1024,
            "turn_ms": 1000 / o["load"]["10"]["throughput_tps"],
            "floor_turn_ms": 1000 / floor10,
            "cpu_per_turn_ms": 2000 / need,
        }
    return {
        "starter10": starter10,
        "need": need,
        "budget_ms": 1000 / need,
        "tps": floor10,
        "p50_10": fl["10"]["p50_ms"],
        "p50_1": fl["1"]["p50_ms"],
        "vs_starter": floor10 / starter10,
        "workers": workers,
        "unavailable": wk.get("unavailable"),
    }


def _scale(r: Results) -> Optional[List[Result]]:
    if not r.scale:
        return None
    return [
        {
            **x,
            "model_mib": x["model_bytes"] / MiB,
            "rss_idle_mib": x["memory_idle"]["rasa_rss_bytes"] / MiB,
            "rss_peak_mib": (x.get("peak_rss_bytes") or {}).get("rasa", 0) / MiB,
        }
        for x in r.scale["rows"]
    ]


def _tracker(o: Result, s: Optional[Result]) -> Section:
    runs = o.get("tracker") or []
    if not runs:
        return None
    turns = len(runs[0])
    marks = [t for t in (1, 50, 100, 200) if t <= turns]

    def at(rs: List[List[float]], t: int) -> float:
        return statistics.median(x[t - 1] for x in rs)

    def win(rs: List[List[float]], t: int) -> float:
        lo, hi = max(0, t - 6), min(turns, t + 4)
        return statistics.median(x for run in rs for x in run[lo:hi])

    bots = [
        {"name": name, "at": [at(x["tracker"], t) for t in marks], "window": [win(x["tracker"], t) for t in marks]}
        for name, x in (("ours", o), ("starter", s))
        if x and x.get("tracker")
    ]
    first, last = win(runs, marks[0] if marks[0] > 5 else 6), win(runs, marks[-1])
    return {
        "runs": len(runs),
        "turns": turns,
        "marks": marks,
        "bots": bots,
        "growth": last / first,
        "rss_mib": (o.get("memory_after_tracker") or {}).get("rasa_rss_bytes", 0) / MiB,
    }


def _length(r: Results) -> Section:
    """Issue 14: segments off (before) against on (shipped), turns 1/50/100/200, py-spy split, request size."""
    ln = r.length
    if not ln:
        return None
    settings = ln["settings"]
    prof = {k: x.get("profile") or {} for k, x in settings.items()}
    split = None
    if all(p.get("available") for p in prof.values()):
        any_p = next(iter(prof.values()))
        cols = [(k, w) for k in ("segments-off", "segments-on") if k in prof for w in ("start", "end")]
        rows = []
        for proc, label in (("rasa", "Rasa server"), ("action_server", "action server")):
            for part in prof[cols[0][0]][cols[0][1]][proc]["parts"]:
                rows.append(
                    {
                        "label": f"{label}: {part}",
                        "bold": False,
                        "ms": [prof[k][w][proc]["parts"].get(part, 0) for k, w in cols],
                    }
                )
            rows.append(
                {
                    "label": f"{label}: whole turn (busy)",
                    "bold": True,
                    "ms": [prof[k][w][proc]["busy_ms_per_turn"] for k, w in cols],
                }
            )
        split = {
            "rate": any_p["rate"],
            "turns_per_window": any_p["turns_per_window"],
            "end": any_p["windows"]["end"],
            "cols": cols,
            "rows": rows,
        }
    return {
        **ln,
        "marks": [x["turn"] for x in next(iter(settings.values()))["summary"]["rows"]],
        "rows": [{"key": k, **settings[k]["summary"]} for k in ("segments-off", "segments-on") if k in settings],
        "split": split,
    }


# ---------------------------------------------------------------------- rendering
def context(r: Results) -> Dict[str, Any]:
    return {
        "target": T,
        "header": header(r),
        "summary": summary(r),
        "reproduce": reproduce(r),
        "accuracy": accuracy(r),
        "entities": entities(r),
        "speed": speed(r),
    }


def _template():
    import jinja2

    env = jinja2.Environment(
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(f=f, pct=pct, ok=ok, la=la, fmt=fmt, bold=bold)
    # A line ending in a backslash continues on the next one: long paragraphs stay one line in the page.
    source = re.sub(r"\\\n[ \t]*", "", TEMPLATE.read_text(encoding="utf-8"))
    return env.from_string(source)


def render(r: Results) -> str:
    """The text of docs/benchmarks.md."""
    return _template().render(**context(r)).rstrip() + "\n"


def write_report(out: Path = OUT, docs: Path = DOCS) -> Path:
    r = load_results(out)
    img = docs / IMG.relative_to(DOCS)
    img.mkdir(parents=True, exist_ok=True)
    write_figures(r, img)
    path = docs / "benchmarks.md"
    path.write_text(render(r), encoding="utf-8")
    return path


if __name__ == "__main__":
    # python -m bench.report [OUT [DOCS]]: DOCS other than docs/ renders a copy without touching the committed page
    print(
        write_report(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT, Path(sys.argv[2]) if len(sys.argv) > 2 else DOCS)
    )
