"""Summarise a py-spy raw profile (`py-spy record --format raw`): where a turn's time goes.

    python -m bench.profile bench/out/ours/profile-rasa.txt

Only samples taken while a request was being handled count (stacks through
Sanic's `handle_request` or rasa_sdk's `webhook`); the event loop waiting for
the next request is idle time. Shares are of that busy time. A frame's
"inclusive" share counts every sample in which the frame is on the stack.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

# (label, regex on one frame "function (file:line)"), most specific first.
BUCKETS: List[Tuple[str, str]] = [
    ("NLU: whole parse (graph run)", r"^_parse_message_with_graph \(rasa/core/processor\.py"),
    ("NLU: normaliser (OpenCC, script detection)", r"^process \(addons/components/text_normalizer\.py"),
    ("NLU: JiebaTokenizer", r"^process \(rasa/nlu/tokenizers/"),
    ("NLU: CountVectorsFeaturizer", r"^process \(rasa/nlu/featurizers/sparse_featurizer/count_vectors"),
    ("NLU: intent classifier", r"^process \(rasa/nlu/classifiers/(logistic_regression|diet|sklearn)"),
    ("NLU: ChineseEntityExtractor (spaCy rules + quantities)", r"^process \(addons/components/entity_extractor\.py"),
    ("NLU: cn2an import / first use", r"cn2an/"),
    (
        "policies: next-action prediction",
        r"^_predict_next_with_tracker \(rasa/core/processor\.py|^predict_next_action \(rasa/core/processor\.py",
    ),
    ("remote actions: HTTP call to the action server", r"^run \(rasa/core/actions/action\.py"),
    ("remote actions: JSON-schema check of the reply", r"^_validate_action_result \(rasa/core/actions/action\.py"),
    ("forms (FormAction loop, incl. its remote calls)", r"^run \(rasa/core/actions/loops\.py"),
    (
        "tracker store: load conversation",
        r"^(get_tracker|fetch_tracker_and_update_session|retrieve|retrieve_full_tracker)"
        r" \(rasa/core/(processor|tracker_store)\.py",
    ),
    ("tracker store: save (SQLite commit)", r"^save_tracker \(rasa/core/processor\.py"),
    ("NLG: response rendering", r"^generate \(addons/script_nlg\.py|^generate \(rasa/core/nlg/"),
    ("action server: running the action", r"^run \(rasa_sdk/executor\.py"),
]
BUSY = re.compile(r"handle_request|webhook \(rasa_sdk/endpoint\.py")


def _parse(path: Path):
    for line in path.read_text(errors="replace").splitlines():
        line = line.rstrip()
        if not line:
            continue
        stack, _, n = line.rpartition(" ")
        try:
            count = int(n)
        except ValueError:
            continue
        yield stack.split(";"), count


def summarise(path: Path, top: int = 25) -> Dict[str, Any]:
    total = busy = 0
    inclusive: Counter = Counter()
    own: Counter = Counter()
    buckets: Counter = Counter()
    for frames, n in _parse(path):
        total += n
        if not any(BUSY.search(f) for f in frames):
            continue
        busy += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
        for label, rx in BUCKETS:
            if any(re.search(rx, f) for f in frames):
                buckets[label] += n

    def share(c: int) -> float:
        return c / busy if busy else 0.0

    outer = {f for f, c in inclusive.items() if c >= 0.9 * busy}  # the request/handler frames themselves
    return {
        "samples": total,
        "busy_samples": busy,
        "busy_share": busy / total if total else 0.0,
        "buckets": [{"what": label, "share": share(buckets[label])} for label, _ in BUCKETS if buckets[label]],
        "top_inclusive": [{"frame": f, "share": share(c)} for f, c in inclusive.most_common() if f not in outer][:top],
        "top_self": [{"frame": f, "share": share(c)} for f, c in own.most_common(top)],
    }


def main() -> None:
    s = summarise(Path(sys.argv[1]))
    print(f"{s['busy_samples']} busy samples of {s['samples']} ({100 * s['busy_share']:.0f}%)")
    for b in s["buckets"]:
        print(f"{100 * b['share']:5.1f}%  {b['what']}")
    print("-- inclusive")
    for b in s["top_inclusive"]:
        print(f"{100 * b['share']:5.1f}%  {b['frame']}")
    print("-- self")
    for b in s["top_self"]:
        print(f"{100 * b['share']:5.1f}%  {b['frame']}")


if __name__ == "__main__":
    main()
