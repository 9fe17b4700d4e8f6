"""`rasa <args>` with a fixed NumPy seed, so that cross-validation folds repeat.

`rasa test nlu --cross-validation` splits with StratifiedKFold(shuffle=True) and
no random_state, so every run draws different folds. Seeding NumPy's global
generator before the CLI starts makes the folds identical for every config,
which turns the comparison into a paired one. Otherwise this is exactly
`rasa <args>`. Run it from the project root (or a snapshot of it): the config's
custom components (addons.*) are imported from the working directory.

Usage: .venv/bin/python -m bench.selection.cv [--seed 42] -- test nlu --nlu data/nlu \
           --cross-validation --folds 5 --config CFG.yml --out OUT
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    import numpy as np

    sys.path.insert(0, os.getcwd())  # addons.* components
    argv = sys.argv[1:]
    seed = 42
    if argv[:1] == ["--seed"]:
        seed, argv = int(argv[1]), argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    np.random.seed(seed)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv]
    rasa_main()


if __name__ == "__main__":
    main()
