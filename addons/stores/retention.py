"""Delete conversations whose last event is older than RETENTION_DAYS (`make purge`).

    python -m addons.stores.retention [--days N]

Uses the same database as the server (settings: TRACKER_DB_URL or var/rasa.db).
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, List, Optional

import sqlalchemy as sa

from addons.settings import load_settings

if TYPE_CHECKING:
    from addons.stores.tracker_store import RedactingTrackerStore

_CHUNK = 500  # sender ids per DELETE: stays under SQLite's bound-parameter limit


def purge_older_than(store: "RedactingTrackerStore", days: float, now: Optional[float] = None) -> int:
    """Delete every conversation idle for more than `days`; returns how many were deleted."""
    cutoff = (time.time() if now is None else now) - days * 86400
    event = store.SQLEvent
    with store.session_scope() as session:
        stale: List[str] = [
            sender_id
            for (sender_id,) in session.query(event.sender_id)
            .group_by(event.sender_id)
            .having(sa.func.max(event.timestamp) < cutoff)
        ]
        for start in range(0, len(stale), _CHUNK):
            chunk = stale[start : start + _CHUNK]
            session.query(event).filter(event.sender_id.in_(chunk)).delete(synchronize_session=False)
        session.commit()
    if stale:
        from addons.stores.tracker_store import truncate_wal

        truncate_wal(store.engine)
    return len(stale)


def main(argv: Optional[List[str]] = None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=float, default=settings.retention_days, help="default: RETENTION_DAYS (%(default)s)"
    )
    args = parser.parse_args(argv)
    if args.days <= 0:
        parser.error("--days must be positive")

    from addons import server_hooks
    from addons.stores.tracker_store import RedactingTrackerStore

    server_hooks.install_all()  # an entry point like any other: the store requires the hooks
    deleted = purge_older_than(RedactingTrackerStore(), args.days)
    print(f"Deleted {deleted} conversation(s) with no activity in the last {args.days:g} days.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
