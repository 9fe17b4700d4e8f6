"""SQL tracker store that persists only redacted events and really deletes on request.

endpoints.yml: `tracker_store: type: addons.stores.tracker_store.RedactingTrackerStore`.
The database comes from settings: TRACKER_DB_URL (e.g. postgresql://...) or the
embedded SQLite file var/rasa.db.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, Restarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from addons import server_hooks
from addons.settings import PROJECT_ROOT, load_settings
from addons.stores.redaction import redact_value
from addons.stores.tracker_segments import segment_break

logger = logging.getLogger(__name__)

# Must equal ActionDeleteMyData.name() in actions/privacy_actions.py (a test checks it).
DELETE_ACTION_NAME = "action_delete_my_data"


def _prepare_sqlite(url: str) -> str:
    """Absolute path (relative ones are taken from the project root) whose folder exists."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    path = Path(parsed.database)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(parsed.set(database=str(path)))


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not just unlinked
    cursor.execute("PRAGMA busy_timeout=5000")  # `make purge` may run beside the server
    # WAL + NORMAL: a commit without a full fsync (a process crash loses nothing, a power
    # cut the last turns). Deletions are followed by truncate_wal(), see below.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def truncate_wal(engine: Any) -> None:
    """Copy the WAL into the database file and empty it (SQLite only).

    The -wal file holds page images from before a deletion; once they are copied
    back (secure_delete zeroes the freed cells) and the file truncated, nothing
    of a deleted conversation is left in either file.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _deletion_index(events: List[Event]) -> Optional[int]:
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, ActionExecuted) and event.action_name == DELETE_ACTION_NAME:
            return index
    return None


def _kept_after_deletion(events: List[Event], index: int) -> List[Event]:
    """Only a conversation begun after the deletion's Restarted, if the user has spoken since."""
    rest = events[index + 1 :]
    restart = next((i for i, event in enumerate(rest) if isinstance(event, Restarted)), None)
    tail = rest[restart + 1 :] if restart is not None else []
    return tail if any(isinstance(event, UserUttered) for event in tail) else []


class RedactingTrackerStore(SQLTrackerStore):
    """Every event is redacted (a copy) before it is written or streamed."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        server_hooks.require_installed(type(self).__name__)  # e.g. log redaction: never serve without it
        settings = load_settings()
        url = settings.tracker_db_url or host or settings.tracker_url
        if "://" in url:
            url = _prepare_sqlite(url)
        self._max_text = settings.max_message_chars
        self._segment_turns = settings.segment_turns
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._pool_sqlite_connections()

    def _pool_sqlite_connections(self) -> None:
        """Reuse SQLite connections (SQLAlchemy 1.4 gives a file database a NullPool).

        Without a pool every load and save opens the file and re-runs the PRAGMAs.
        """
        url = self.engine.url
        self.engine.dispose()
        if url.database in (None, "", ":memory:"):
            sa.event.listen(self.engine, "connect", _on_sqlite_connect)
            return
        self.engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=2,
            max_overflow=4,
            connect_args={"check_same_thread": False},
        )
        sa.event.listen(self.engine, "connect", _on_sqlite_connect)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _stored_data(self, event: Event) -> Dict[Text, Any]:
        data = redact_value(event.as_dict())
        if isinstance(event, UserUttered):  # a huge message must not bloat the database
            for holder in (data, data.get("parse_data") or {}):
                if isinstance(holder.get("text"), str):
                    holder["text"] = holder["text"][: self._max_text]
        return data

    def _row(self, sender_id: Text, event: Event) -> "SQLTrackerStore.SQLEvent":
        data = self._stored_data(event)
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=(data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events (closing a long segment, see addons/stores/tracker_segments.py);
        after `action_delete_my_data` delete all instead."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            events = list(self._additional_events(session, tracker))
            index = _deletion_index(events)
            if index is not None:
                deleted = self._delete_rows(session, tracker.sender_id)
                events = _kept_after_deletion(events, index)
                logger.info(f"Deleted conversation on the user's request ({deleted} events).")
            else:  # a long session: close the segment, the next turn loads only the new one
                events += segment_break(tracker, self._segment_turns)
            for event in events:
                session.add(self._row(tracker.sender_id, event))
            session.commit()
        if index is not None:
            truncate_wal(self.engine)

    def _delete_rows(self, session: Any, sender_id: Text) -> int:
        return (
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
        )

    def delete_conversation(self, sender_id: Text) -> int:
        """Delete every stored event of `sender_id`; returns how many rows went."""
        with self.session_scope() as session:
            deleted = self._delete_rows(session, sender_id)
            session.commit()
        truncate_wal(self.engine)
        return deleted

    async def _stream_new_events(self, event_broker: EventBroker, new_events: List[Event], sender_id: Text) -> None:
        for event in new_events:
            event_broker.publish({"sender_id": sender_id, **self._stored_data(event)})
