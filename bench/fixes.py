"""`rasa` with the candidate speed fixes applied in-process (a benchmark experiment).

    PYTHONPATH=. python -m bench.fixes run --model ... --endpoints ...   # = rasa run ..., patched
    BENCH_FIXES=schema,sqlite python -m bench.fixes run ...             # a subset
    BENCH_UNDO=schema,pool,sqlite,cn2an python -m bench.fixes run ...   # the code before the fixes

The fixes are the ones docs/benchmarks.md proposes after profiling; they are
applied here by monkeypatching so that their effect is measured in the same
`make bench` run, without changing the project's code. Each is small enough
to move into addons/ as it is:

  schema  Rasa's RemoteAction._validate_action_result calls
          jsonschema.validate(result, schema), which first re-validates the
          (constant) schema against the JSON-Schema meta-schema, on every
          action-server reply. Here the validator is built once and reused;
          the reply is validated exactly as before.
  pool    The tracker store's SQLite engine keeps its connections in a pool
          (SQLAlchemy 1.4 gives a file SQLite database a NullPool: a new
          connection, PRAGMAs included, for every load and every save).
  sqlite  The tracker store's SQLite connections use WAL journaling with
          synchronous=NORMAL (durable against a process crash; an OS crash
          can lose the last transactions) instead of a full fsync per commit.
  cn2an   Import cn2an (its dictionaries and ~300 regular expressions) at
          start-up instead of inside the first message that contains a number.

All four have since moved into the project's code (a fix already there is
re-applied harmlessly); WAL comes with a truncating checkpoint after every
deletion (addons/tracker_store.py), so deleted rows do not linger in the -wal file.
"""
from __future__ import annotations

import os
import sys
from typing import Any

FIXES = ("schema", "pool", "sqlite", "cn2an")


def already_in_project() -> dict:
    """Which fixes the project's own code already has (by a look at its source)."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent

    def src(*globs: str) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                         for g in globs for p in sorted(root.glob(g)) if p.is_file())

    addons = src("addons/*.py")
    store = src("addons/tracker_store.py")
    quantities = src("actions/guidance/quantities.py", "addons/entity_extractor.py", "actions/__init__.py")
    return {
        "schema": "validator_for(" in addons and "_validate_action_result" in addons,
        "pool": "QueuePool" in store or "StaticPool" in store or "SingletonThreadPool" in store,
        "sqlite": "journal_mode=WAL" in store.replace(" ", "") or "synchronous=NORMAL" in store.replace(" ", ""),
        "cn2an": "quantities.warm_up()" in src("addons/entity_extractor.py")
        or any(line.startswith("import cn2an") or line.startswith("from cn2an") for line in quantities.splitlines()),
    }


def apply(names) -> None:
    names = set(names)
    if "schema" in names:
        import jsonschema
        from rasa.core.actions.action import RemoteAction

        schema = RemoteAction.action_response_format_spec()
        validator = jsonschema.validators.validator_for(schema)(schema)
        original = RemoteAction._validate_action_result

        def _validate_action_result(self: Any, result: Any) -> bool:
            if validator.is_valid(result):
                return True
            return original(self, result)  # raises with Rasa's own message

        RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    if "sqlite" in names:
        import addons.tracker_store as store

        previous = store._on_sqlite_connect

        def _on_sqlite_connect(dbapi_connection: Any, record: Any) -> None:
            previous(dbapi_connection, record)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        store._on_sqlite_connect = _on_sqlite_connect
    if "pool" in names:
        import sqlalchemy as sa

        import addons.tracker_store as store

        init = store.RedactingTrackerStore.__init__

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            if self.engine.dialect.name != "sqlite":
                return
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=4,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", lambda c, r: store._on_sqlite_connect(c, r))
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

        store.RedactingTrackerStore.__init__ = __init__  # type: ignore[method-assign]
    if "cn2an" in names:
        import cn2an  # noqa: F401


def undo(names) -> None:
    """The project's code as it was before the fixes (to measure what they bought)."""
    names = set(names)
    if "schema" in names:
        import addons.script_nlg as nlg

        nlg.install_reply_validation = lambda: False  # Rasa's own jsonschema.validate per reply
    if "sqlite" in names:
        import addons.tracker_store as store

        def _on_sqlite_connect(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()  # rollback journal, synchronous=FULL: SQLite's defaults

        store._on_sqlite_connect = _on_sqlite_connect
    if "pool" in names:
        import sqlalchemy as sa

        import addons.tracker_store as store

        def _no_pool(self: Any) -> None:  # SQLAlchemy's NullPool: a connection per load and save
            sa.event.listen(self.engine, "connect", lambda c, r: store._on_sqlite_connect(c, r))
            self.engine.dispose()

        store.RedactingTrackerStore._pool_sqlite_connections = _no_pool  # type: ignore[method-assign]
    if "cn2an" in names:
        from actions.guidance import quantities

        quantities.warm_up = lambda: None  # cn2an imported inside the first message with a number


def _names(var: str) -> list:
    names = [n for n in os.environ.get(var, "").split(",") if n]
    unknown = set(names) - set(FIXES)
    if unknown:
        raise SystemExit(f"unknown fix(es) in {var}: {', '.join(sorted(unknown))}")
    return names


def main() -> None:
    if "BENCH_UNDO" in os.environ:
        undo(_names("BENCH_UNDO"))
    else:
        os.environ.setdefault("BENCH_FIXES", ",".join(FIXES))
        apply(_names("BENCH_FIXES"))
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
