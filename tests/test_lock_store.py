"""EnvLockStore wiring (Redis behaviour is tested against a real server in tests/integration)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from addons.stores.lock_store import AtomicRedisLockStore, EnvLockStore

ROOT = Path(__file__).resolve().parent.parent


def from_endpoints() -> LockStore:
    return LockStore.create(read_endpoint_config(str(ROOT / "endpoints.yml"), "lock_store"))


def test_endpoints_yml_gives_in_memory_locks_without_redis(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = from_endpoints()
    assert type(store) is EnvLockStore
    assert type(store.backend) is InMemoryLockStore


def test_redis_url_selects_the_atomic_redis_store(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://:secret@127.0.0.1:6399/3")  # no connection until used
    store = from_endpoints()
    assert type(store) is EnvLockStore
    assert type(store.backend) is AtomicRedisLockStore
    kwargs = store.backend.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == ("127.0.0.1", 6399, 3, "secret")
    assert store.backend.key_prefix == "lock:"


def test_several_workers_without_redis_are_refused(monkeypatch):
    # Rasa accepts SANIC_WORKERS>1 with any custom lock store; in-memory locks are per process.
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    with pytest.raises(ValueError, match="REDIS_URL"):
        from_endpoints()
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6399/0")
    assert type(from_endpoints().backend) is AtomicRedisLockStore


def test_key_prefix_from_endpoint_kwargs(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6399/0")
    store = EnvLockStore(
        endpoint_config=EndpointConfig(type="addons.stores.lock_store.EnvLockStore", key_prefix="bot1")
    )
    assert store.backend.key_prefix == "bot1:lock:"


def test_in_memory_lock_serialises_one_conversation(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = EnvLockStore()
    order = []

    async def turn(name: str) -> None:
        async with store.lock("alice", wait_time_in_seconds=0.01):
            order.append(f"{name}-in")
            await asyncio.sleep(0.05)
            order.append(f"{name}-out")

    async def both() -> None:
        await asyncio.gather(turn("a"), turn("b"))

    asyncio.run(both())
    assert order == ["a-in", "a-out", "b-in", "b-out"]
    assert store.get_lock("alice") is None  # cleaned up
