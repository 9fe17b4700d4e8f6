"""The `rasa` command with the project's patches to Rasa installed first.

Usage: python -m addons.rasa_cli <rasa arguments>, e.g.
    python -m addons.rasa_cli shell --model models/debt-rights.tar.gz --endpoints endpoints.yml
    python -m addons.rasa_cli test core --stories tests/stories --model ... --endpoints endpoints.yml

Use it for every Rasa command that loads the agent with endpoints.yml (run, shell,
test core, interactive): the project's NLG and tracker store refuse to start in a
process without addons.server_hooks. scripts/run_server.py (`make run`) goes through
`run()` too; training and `rasa test nlu` do not need it but work the same.
"""

from __future__ import annotations

import sys
from typing import Collection, Sequence


def run(rasa_args: Sequence[str], leave_out: Collection[str] = ()) -> int:
    """install_all(leave_out), then Rasa's own command line with `rasa_args` in this process."""
    from addons import server_hooks

    server_hooks.install_all(leave_out=leave_out)
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *rasa_args]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
