"""`rasa` with the speed fixes of docs/benchmarks.md §3.3 taken out again (a benchmark experiment).

    BENCH_UNDO=schema,pool,sqlite,cn2an python -m bench.fixes run ...   # = rasa run ..., without them
    BENCH_UNDO=sqlite python -m bench.fixes run ...                     # one fix taken out

The fixes were found by profiling and are in the project's code; this puts
the old behaviour back, so that `make bench` measures what each fix buys in the
same run. A fix that is a patch to Rasa is left out through addons.server_hooks
(`install_all(leave_out=...)`); the others are monkeypatched back:

  schema  addons/patches/action_reply_validation.py (server hook "action_reply_validation")
          builds the JSON-schema validator of action-server replies once; Rasa's
          RemoteAction._validate_action_result calls jsonschema.validate(result, schema),
          which re-validates the constant schema against the meta-schema on every reply.
  pool    addons/stores/tracker_store.py keeps SQLite connections in a QueuePool
          (SQLAlchemy 1.4 gives a file SQLite database a NullPool: a new
          connection, PRAGMAs included, for every load and every save).
  sqlite  The tracker store's SQLite connections use WAL with synchronous=NORMAL
          instead of a full fsync per commit; every deletion ends with a
          truncating checkpoint so deleted rows do not linger in the -wal file.
  cn2an   chinese_text.quantities.warm_up() imports cn2an (its dictionaries
          and ~300 regular expressions) at model load instead of inside the first
          message that contains a number.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Collection, List

FIXES = ("schema", "pool", "sqlite", "cn2an")
SERVER_HOOKS = {"schema": "action_reply_validation"}  # fix -> the addons.server_hooks patch that is the fix


def hooks_left_out(names: Collection[str]) -> List[str]:
    """The server hooks to leave out for these fixes (Rasa's own code runs instead)."""
    return [SERVER_HOOKS[name] for name in FIXES if name in names and name in SERVER_HOOKS]


def undo(names: Collection[str]) -> None:
    """The project's own code (not a patch to Rasa) as it was before the fixes."""
    names = set(names)
    if "sqlite" in names:
        import addons.stores.tracker_store as store

        def _on_sqlite_connect(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()  # rollback journal, synchronous=FULL: SQLite's defaults

        store._on_sqlite_connect = _on_sqlite_connect
    if "pool" in names:
        import sqlalchemy as sa

        import addons.stores.tracker_store as store

        def _no_pool(self: Any) -> None:  # SQLAlchemy's NullPool: a connection per load and save
            sa.event.listen(self.engine, "connect", lambda c, r: store._on_sqlite_connect(c, r))
            self.engine.dispose()

        store.RedactingTrackerStore._pool_sqlite_connections = _no_pool  # type: ignore[method-assign]
    if "cn2an" in names:
        from chinese_text import quantities

        quantities.warm_up = lambda: None  # cn2an imported inside the first message with a number


def _names(var: str) -> List[str]:
    names = [n for n in os.environ.get(var, "").split(",") if n]
    unknown = set(names) - set(FIXES)
    if unknown:
        raise SystemExit(f"unknown fix(es) in {var}: {', '.join(sorted(unknown))}")
    return names


def main() -> None:
    names = _names("BENCH_UNDO")
    undo(names)
    from addons.rasa_cli import run

    run(sys.argv[1:], leave_out=hooks_left_out(names))


if __name__ == "__main__":
    main()
