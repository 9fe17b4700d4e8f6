"""The PNG figures of docs/benchmarks.md (matplotlib, Agg backend, no CJK text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {
    "ours": "#1f77b4",
    "starter": "#ff7f0e",
    "ours before the fixes": "#2ca02c",
    "ours, 2 workers + Redis": "#d62728",
}


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def variants(nlu: Dict[str, Any], labels: Dict[str, str], path: Path) -> Path:
    names = list(nlu)
    metrics = [
        ("heldout", "accuracy", "held-out accuracy"),
        ("heldout", "macro_f1", "held-out macro-F1"),
        ("cv", "accuracy", "5-fold CV accuracy"),
        ("cv", "macro_f1", "5-fold CV macro-F1"),
    ]
    fig, ax = plt.subplots(figsize=(10, 4.2))
    width = 0.8 / len(names)
    for i, n in enumerate(names):
        vals = [((nlu[n].get(part) or {}).get(key) or 0.0) for part, key, _ in metrics]
        xs = [m + i * width - 0.4 + width / 2 for m in range(len(metrics))]
        ax.bar(xs, vals, width, label=labels[n])
        for x, v in zip(xs, vals):
            if v:
                ax.text(x, v + 0.005, f"{v:.3f}", ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(range(len(metrics)))
    ax.set_xticklabels([m[2] for m in metrics])
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("score")
    ax.set_title("Intent classification: chosen pipeline vs alternatives (same run, same folds)")
    ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return _save(fig, path)


def per_intent(f1: Dict[str, Dict[str, float]], path: Path) -> Path:
    """f1: {series label: {intent: f1}} -- horizontal grouped bars."""
    series = list(f1)
    intents = sorted({i for s in f1.values() for i in s}, key=lambda i: f1[series[0]].get(i, 0))
    fig, ax = plt.subplots(figsize=(8, max(6, 0.28 * len(intents))))
    h = 0.8 / len(series)
    for k, s in enumerate(series):
        ys = [j + k * h - 0.4 + h / 2 for j in range(len(intents))]
        ax.barh(ys, [f1[s].get(i, 0) for i in intents], h, label=s)
    ax.set_yticks(range(len(intents)))
    ax.set_yticklabels(intents, fontsize=7)
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("F1")
    ax.set_title("Per-intent F1 of the chosen pipeline")
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def confusion(records: List[Dict[str, Any]], title: str, path: Path) -> Path:
    from sklearn.metrics import confusion_matrix

    gold = [r["gold"] for r in records]
    pred = [r["final"] for r in records]
    labels = sorted(set(gold)) + sorted(set(pred) - set(gold))
    cm = confusion_matrix(gold, pred, labels=labels)
    n = len(labels)
    fig, ax = plt.subplots(figsize=(max(8, 0.3 * n + 3), max(7, 0.3 * n + 2)))
    norm = cm / cm.sum(axis=1, keepdims=True).clip(min=1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(
                    j,
                    i,
                    str(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=5,
                    color="white" if norm[i, j] > 0.5 else ("#c00000" if i != j else "black"),
                )
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(labels, rotation=90, fontsize=6)
    ax.set_yticklabels(labels, fontsize=6)
    ax.set_xlabel("predicted (after fallback)")
    ax.set_ylabel("gold")
    ax.set_title(title)
    return _save(fig, path)


def latency(bots: Dict[str, Dict[str, Any]], path: Path) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, r in bots.items():
        cs = sorted(int(c) for c in r["load"])
        for q, style in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
            axes[0].plot(
                cs,
                [r["load"][str(c)][q] for c in cs],
                style,
                marker="o",
                color=COLORS.get(name),
                label=f"{name} {q[:3]}",
            )
    width = 0.8 / len(bots)
    for k, (name, r) in enumerate(bots.items()):
        cs = sorted(int(c) for c in r["load"])
        xs = [i + (k - (len(bots) - 1) / 2) * width for i in range(len(cs))]
        vals = [r["load"][str(c)]["throughput_tps"] for c in cs]
        axes[1].bar(xs, vals, width, color=COLORS.get(name), label=name)
        for x, v in zip(xs, vals):
            axes[1].text(x, v, f"{v:.1f}", ha="center", va="bottom", fontsize=7)
    axes[0].set_xscale("log")
    axes[0].set_yscale("log")
    axes[0].set_xticks([1, 10, 50])
    axes[0].set_xticklabels(["1", "10", "50"])
    axes[0].set_xlabel("concurrent conversations")
    axes[0].set_ylabel("turn latency (ms, log)")
    axes[0].set_title("REST turn latency")
    axes[0].legend(fontsize=7)
    axes[0].grid(alpha=0.3, which="both")
    axes[1].set_xticks(range(len(cs)))
    axes[1].set_xticklabels([str(c) for c in cs])
    axes[1].set_xlabel("concurrent conversations")
    axes[1].set_ylabel("turns per second")
    axes[1].set_title("Throughput")
    axes[1].legend(fontsize=7)
    return _save(fig, path)


def tracker(series: Dict[str, List[List[float]]], path: Path) -> Path:
    import statistics

    fig, ax = plt.subplots(figsize=(9, 4))
    for name, runs in series.items():
        if not runs:
            continue
        turns = len(runs[0])
        med = [statistics.median(r[t] for r in runs) for t in range(turns)]
        ax.plot(range(1, turns + 1), med, color=COLORS.get(name), alpha=0.35, lw=0.8)
        w = 10
        smooth = [statistics.median(med[max(0, t - w // 2) : t + w // 2 + 1]) for t in range(turns)]
        ax.plot(
            range(1, turns + 1),
            smooth,
            color=COLORS.get(name),
            lw=2,
            label=f"{name} (median of {len(runs)} runs, 10-turn window)",
        )
    ax.set_xlabel("turn of the conversation")
    ax.set_ylabel("turn latency (ms)")
    ax.set_title("Latency vs conversation length (one conversation at a time)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def length(settings: Dict[str, Dict[str, Any]], path: Path) -> Path:
    """Issue 14: windowed median latency and request size per turn, segments off against on."""
    import statistics

    fig, (lat_ax, size_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
    colors = {"segments-off": "#d62728", "segments-on": "#1f77b4"}
    for label, r in settings.items():
        runs, turns = r["latency"], len(r["latency"][0])
        med = [statistics.median(conv[t] for conv in runs) for t in range(turns)]
        smooth = [statistics.median(med[max(0, t - 10) : t + 10]) for t in range(turns)]
        lat_ax.plot(range(1, turns + 1), med, color=colors.get(label), alpha=0.3, lw=0.8)
        lat_ax.plot(range(1, turns + 1), smooth, color=colors.get(label), lw=2, label=f"{label} (20-turn window)")
        size_ax.plot(
            range(1, len(r["request_bytes"]) + 1),
            [b / 1024 for b in r["request_bytes"]],
            color=colors.get(label),
            lw=1.5,
            label=label,
        )
    lat_ax.set(xlabel="turn of the conversation", ylabel="turn latency (ms)", title="Turn latency")
    size_ax.set(
        xlabel="turn of the conversation", ylabel="KiB sent to the action server", title="Request size per turn"
    )
    for ax in (lat_ax, size_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, path)


def scale(rows: List[Dict[str, Any]], path: Path) -> Path:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    fs = [r["factor"] for r in rows]
    axes[0].plot(fs, [r["train_seconds"] for r in rows], marker="o")
    axes[0].set_title("training time (s)")
    axes[1].plot(fs, [r["load"]["p50_ms"] for r in rows], marker="o", label="p50")
    axes[1].plot(fs, [r["load"]["p95_ms"] for r in rows], marker="o", label="p95")
    axes[1].set_title("single-conversation latency (ms)")
    axes[1].legend(fontsize=7)
    axes[2].plot(
        fs,
        [(r.get("peak_rss_bytes") or {}).get("rasa", 0) / 2**20 for r in rows],
        marker="o",
        label="Rasa server peak RSS",
    )
    axes[2].plot(fs, [r["model_bytes"] / 2**20 for r in rows], marker="o", label="model archive")
    axes[2].set_title("memory / size (MiB)")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.set_xticks(fs)
        ax.set_xticklabels([f"{f}x" for f in fs])
        ax.set_xlabel("NLU training data")
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    return _save(fig, path)


def realistic_kinds(kinds: Dict[str, Dict[str, Dict[str, Any]]], floor: float, path: Path) -> Path:
    """kinds: {pipeline label: {kind: {"n", "accuracy"}}} -- grouped bars per kind of message, the floor as a line."""
    series = list(kinds)
    names = sorted({k for s in kinds.values() for k in s})
    fig, ax = plt.subplots(figsize=(max(9, 0.75 * len(names) + 2), 4.4))
    width = 0.8 / len(series)
    for i, s in enumerate(series):
        xs = [j + i * width - 0.4 + width / 2 for j in range(len(names))]
        ax.bar(xs, [(kinds[s].get(k) or {}).get("accuracy", 0.0) for k in names], width, label=s)
    ax.axhline(floor, color="#c00000", lw=1, ls="--", label=f"target {floor:.2f}")
    first = kinds[series[0]]
    ax.set_xticks(range(len(names)))
    ticks = [f"{k}\n(n={(first.get(k) or {}).get('n', 0)})" for k in names]
    ax.set_xticklabels(ticks, rotation=45, ha="right", fontsize=7)
    lowest = min([floor] + [(e or {}).get("accuracy", 1.0) for s in kinds.values() for e in s.values()])
    ax.set_ylim(max(0.0, int(lowest * 10) / 10 - 0.1), 1.02)  # the differences are a few points: zoom in
    ax.set_ylabel("intent accuracy (axis does not start at 0)")
    ax.set_title("Realistic set (tests/realistic_nlu.yml) by kind of message")
    ax.legend(fontsize=7, ncol=len(series) + 1, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)
