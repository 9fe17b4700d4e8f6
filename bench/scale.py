"""k× the NLU training data, to measure what growth costs (training, memory, latency).

    python -m bench.scale --factor 4 --out /tmp/data4x

Writes a copy of data/ whose NLU part has k× the examples: every original
example is kept, and k-1 paraphrases are added per example by wrapping it in
conversational openers and closers drawn with a fixed seed (请问…，谢谢 /
我想咨询下…呢 / 急！…，在线等 …). Entity annotations move with their text.
The paraphrases add examples and n-grams, not knowledge: this measures the
cost of a bigger data set, not its accuracy. Rules, stories and the rest of
data/ are copied unchanged.
"""

from __future__ import annotations

import argparse
import copy
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import SEED  # noqa: E402

OPENERS = [
    "",
    "请问",
    "想问一下，",
    "你好，",
    "您好，",
    "那个，",
    "我想咨询下",
    "问个问题，",
    "麻烦问下，",
    "急！",
    "求助：",
    "打扰一下，",
    "我朋友问",
    "有个事想问，",
    "说实话，",
    "唉，",
    "大家好，",
    "老师好，",
    "律师您好，",
    "现在的情况是",
    "我就想知道",
    "不好意思，",
    "弱弱地问一句，",
    "帮帮我，",
    "在吗？",
    "哎，",
    "请教一下，",
    "我想了解一下",
    "有人知道吗，",
    "我问下啊，",
]
CLOSERS = [
    "",
    "？",
    "呢",
    "啊",
    "，谢谢",
    "，急",
    "，在线等",
    "，怎么办",
    "…",
    "吗？",
    "，求解答",
    "，拜托了",
    "，谢谢你",
    "，很着急",
    "，多谢",
    "，麻烦了",
    "，好吗",
    "，我该怎么做",
    "！",
    "，求回复",
    "。",
    "，急急急",
    "，我快崩溃了",
    "，帮我看看",
    "，请告诉我",
    "，真的吗",
    "？？",
    "，在线等挺急的",
    "，先谢了",
    "，谢啦",
]


def augment(examples, factor: int, seed: int = SEED):
    """The examples plus (factor-1) wrapped copies of each; entity offsets shifted."""
    from rasa.shared.nlu.constants import ENTITIES, TEXT

    rng = random.Random(seed)
    out = list(examples)
    for m in examples:
        text = m.get(TEXT)
        used = {("", "")}
        for _ in range(factor - 1):
            for _try in range(20):
                pair = (rng.choice(OPENERS), rng.choice(CLOSERS))
                if pair not in used:
                    break
            used.add(pair)
            opener, closer = pair
            new = copy.deepcopy(m)
            new.set(TEXT, opener + text + closer, add_to_output=True)
            for e in new.get(ENTITIES) or []:
                e["start"] += len(opener)
                e["end"] += len(opener)
            out.append(new)
    return out


def write_scaled_data(factor: int, out: Path) -> Path:
    """A copy of data/ with k× NLU examples (out/nlu/nlu.yml); returns out."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for item in (ROOT / "data").iterdir():
        if item.name == "nlu":
            continue
        (shutil.copytree if item.is_dir() else shutil.copy)(item, out / item.name)
    data = load_data(str(ROOT / "data/nlu"))
    scaled = TrainingData(
        training_examples=augment(data.training_examples, factor),
        entity_synonyms=data.entity_synonyms,
        regex_features=data.regex_features,
        lookup_tables=data.lookup_tables,
    )
    (out / "nlu").mkdir()
    scaled.persist_nlu(str(out / "nlu" / "nlu.yml"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--factor", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    path = write_scaled_data(args.factor, Path(args.out))
    print(path)


if __name__ == "__main__":
    main()
