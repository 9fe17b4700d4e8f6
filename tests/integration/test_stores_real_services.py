"""RedactingTrackerStore on a real PostgreSQL server, EnvLockStore on a real Redis server."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List

import psycopg2
import pytest
import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Restarted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from addons.stores.lock_store import AtomicRedisLockStore, EnvLockStore
from addons.stores.retention import purge_older_than
from addons.stores.tracker_store import DELETE_ACTION_NAME, RedactingTrackerStore

# The store is built as Rasa builds it in a server: in a process with the patches to Rasa.
pytestmark = pytest.mark.usefixtures("server_hooks_installed")

ROOT = Path(__file__).resolve().parents[2]
ID_18, PHONE, CARD, EMAIL = "11010519491231002X", "13800138000", "6222021234567890128", "zhang@example.com"
DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform]
slots:
  phone: {type: text, mappings: [{type: custom}]}
"""
)


@pytest.fixture
def pg_store(postgres_url, monkeypatch) -> RedactingTrackerStore:
    monkeypatch.setenv("TRACKER_DB_URL", postgres_url)
    config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    return TrackerStore.create(config, DOMAIN)


def all_event_data(postgres_url: str) -> List[str]:
    with psycopg2.connect(postgres_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sender_id, type_name, intent_name, action_name, data FROM events")
        return [json.dumps(row, ensure_ascii=False) for row in cursor.fetchall()]


def conversation(sender: str) -> DialogueStateTracker:
    text = f"身份证{ID_18} 手机+86 138-0013-8000 卡号{CARD} 邮箱{EMAIL} 欠了43000元"
    return DialogueStateTracker.from_events(
        sender,
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered(
                text,
                {"name": "inform", "confidence": 1.0},
                parse_data={"text": text, "intent": {"name": "inform"}, "entities": []},
            ),
            SlotSet("phone", PHONE),
            BotUttered(f"已记下{PHONE}"),
            ActionExecuted("action_listen"),
        ],
        slots=DOMAIN.slots,
    )


# --- PostgreSQL -------------------------------------------------------------


def test_env_selects_postgres_without_editing_endpoints(pg_store):
    assert type(pg_store) is RedactingTrackerStore and isinstance(pg_store, SQLTrackerStore)
    assert pg_store.engine.dialect.name == "postgresql"


def test_trackers_round_trip_and_no_identifier_reaches_the_table(pg_store, postgres_url):
    tracker = conversation("pg-alice")
    asyncio.run(pg_store.save(tracker))
    restored = asyncio.run(pg_store.retrieve("pg-alice"))
    assert restored.latest_message.text.startswith(
        "身份证[身份证号] 手机[手机号] 卡号[银行卡号] 邮箱[邮箱] 欠了43000元"
    )
    assert restored.get_slot("phone") == "[手机号]"
    assert tracker.get_slot("phone") == PHONE  # live tracker intact

    rows = all_event_data(postgres_url)
    assert any("pg-alice" in row for row in rows)
    for raw in (ID_18, PHONE, "138-0013-8000", CARD, EMAIL):
        assert not any(raw in row for row in rows), raw


def test_second_server_reads_what_the_first_wrote(pg_store, postgres_url, monkeypatch):
    asyncio.run(pg_store.save(conversation("pg-shared")))
    other_server = RedactingTrackerStore(domain=DOMAIN)
    tracker = asyncio.run(other_server.retrieve("pg-shared"))
    tracker.update(UserUttered("谢谢"))
    asyncio.run(other_server.save(tracker))
    assert asyncio.run(pg_store.retrieve("pg-shared")).latest_message.text == "谢谢"


def test_delete_my_data_deletes_rows_on_postgres(pg_store, postgres_url):
    asyncio.run(pg_store.save(conversation("pg-bob")))
    asyncio.run(pg_store.save(conversation("pg-carol")))
    tracker = asyncio.run(pg_store.retrieve("pg-bob"))
    for event in (
        UserUttered("删除我的数据"),
        ActionExecuted(DELETE_ACTION_NAME),
        BotUttered("已删除"),
        Restarted(),
        ActionExecuted("action_listen"),
    ):
        tracker.update(event)
    asyncio.run(pg_store.save(tracker))
    rows = all_event_data(postgres_url)
    assert not any('"pg-bob"' in row for row in rows)
    assert any('"pg-carol"' in row for row in rows)
    assert asyncio.run(pg_store.retrieve("pg-bob")) is None


def test_retention_purge_on_postgres(pg_store):
    old = time.time() - 400 * 86400
    tracker = DialogueStateTracker.from_events(
        "pg-old", [ActionExecuted("action_listen", timestamp=old), UserUttered("很久以前", timestamp=old + 1)]
    )
    asyncio.run(pg_store.save(tracker))
    assert purge_older_than(pg_store, 180) >= 1
    assert asyncio.run(pg_store.retrieve("pg-old")) is None
    assert asyncio.run(pg_store.retrieve("pg-carol")) is not None


# --- Redis --------------------------------------------------------------------


@pytest.fixture
def redis_env(redis_url, monkeypatch) -> str:
    monkeypatch.setenv("REDIS_URL", redis_url)
    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


def env_lock_store() -> LockStore:
    return LockStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store"))


def test_env_selects_atomic_redis_lock_store(redis_env):
    store = env_lock_store()
    assert type(store) is EnvLockStore and type(store.backend) is AtomicRedisLockStore
    assert store.backend.red.ping()


def _issue_in_threads(url: str, conversation_id: str, count: int) -> List[int]:
    store = AtomicRedisLockStore(url)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: store.issue_ticket(conversation_id, 60), range(count)))


def test_fifty_concurrent_tickets_from_threads_and_processes_are_distinct(redis_env):
    context = multiprocessing.get_context("fork")
    with context.Pool(5) as pool:  # 5 processes x 10 threads, each with its own Redis client
        results = pool.starmap(_issue_in_threads, [(redis_env, "race", 10)] * 5)
    tickets = sorted(ticket for chunk in results for ticket in chunk)
    assert tickets == list(range(50))
    lock = env_lock_store().get_lock("race")  # stored in OSS TicketLock format
    assert isinstance(lock, TicketLock) and [t.number for t in lock.tickets] == list(range(50))


def _slow_reads(store: RedisLockStore, barrier: threading.Barrier) -> None:
    """Every GET waits until all threads have read: the network delay that exposes GET->SET races."""
    read = store.red.get

    def get(*args, **kwargs):
        value = read(*args, **kwargs)
        try:
            barrier.wait(timeout=2)
        except threading.BrokenBarrierError:
            pass
        return value

    store.red.get = get


def test_oss_redis_lock_store_issues_duplicate_tickets_and_ours_does_not(redis_env):
    host, port = redis_env.split("//")[1].split("/")[0].split(":")
    oss = RedisLockStore(host=host, port=int(port), db=0)
    ours = AtomicRedisLockStore(redis_env)
    for store in (oss, ours):
        _slow_reads(store, threading.Barrier(10))
    with ThreadPoolExecutor(max_workers=10) as pool:
        oss_tickets = list(pool.map(lambda _: oss.issue_ticket("oss-race", 60), range(10)))
        our_tickets = list(pool.map(lambda _: ours.issue_ticket("our-race", 60), range(10)))
    assert len(set(oss_tickets)) < 10, oss_tickets  # the race of OSS RedisLockStore
    assert sorted(our_tickets) == list(range(10))


def test_tickets_expire_finish_and_clean_up(redis_env):
    store = env_lock_store()
    client = redis.Redis.from_url(redis_env)
    first = store.issue_ticket("c1", 0.2)
    second = store.issue_ticket("c1", 60)
    assert (first, second) == (0, 1)
    assert 0 < client.ttl("lock:c1") <= 120
    lock = store.get_lock("c1")
    assert lock.now_serving == 0 and lock.is_locked(1)
    time.sleep(0.3)
    store.update_lock("c1")  # expired ticket 0 dropped: ticket 1 is served
    assert not store.get_lock("c1").is_locked(1)
    store.cleanup("c1", second)
    assert client.exists("lock:c1") == 0  # nobody waiting: key deleted in the same script
    assert store.issue_ticket("c1", 60) == 0


def test_two_servers_serialise_one_conversation(redis_env):
    server_a, server_b = env_lock_store(), env_lock_store()
    order = []

    async def turn(store: LockStore, name: str) -> None:
        async with store.lock("shared", wait_time_in_seconds=0.02):
            order.append(f"{name}-in")
            await asyncio.sleep(0.1)
            order.append(f"{name}-out")

    async def main() -> None:
        await asyncio.gather(turn(server_a, "a"), turn(server_b, "b"), turn(server_a, "c"))

    asyncio.run(main())
    turns = list(zip(order[::2], order[1::2]))  # each turn ends before the next begins
    assert sorted(entered.split("-")[0] for entered, _ in turns) == ["a", "b", "c"]
    assert all(entered.endswith("-in") and left == entered.replace("-in", "-out") for entered, left in turns)
    assert redis.Redis.from_url(redis_env).exists("lock:shared") == 0
