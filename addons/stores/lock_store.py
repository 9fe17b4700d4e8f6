"""Conversation lock store chosen by settings: in memory, or Redis with atomic tickets.

endpoints.yml: `lock_store: type: addons.stores.lock_store.EnvLockStore`. With REDIS_URL
set, several Rasa servers share the locks. OSS RedisLockStore issues tickets with
GET -> modify -> SET, so two servers can draw the same ticket and process one
conversation at once; here every read-modify-write of a lock is one Lua script.
The stored JSON is the format of OSS TicketLock, so `get_lock` stays as it is.
"""

from __future__ import annotations

import time
from typing import Any, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX,
    DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    LockStore,
    RedisLockStore,
)
from rasa.utils.endpoints import EndpointConfig

from addons.settings import load_settings

# Loads the unexpired tickets of the stored lock (ARGV[2] = now), minus ticket ARGV[4] if
# given; `store()` writes them back in TicketLock's JSON, or deletes the key when none is left.
_LUA_PRELUDE = """
local now = tonumber(ARGV[2])
local kept, last, latest = {}, -1, now
local raw = redis.call('GET', KEYS[1])
if raw then
  for _, item in ipairs(cjson.decode(raw)['tickets'] or {}) do
    local ticket = cjson.decode(item)
    if ticket['expires'] >= now and ticket['number'] ~= tonumber(ARGV[4] or -2) then
      table.insert(kept, cjson.encode(item))
      last, latest = ticket['number'], math.max(latest, ticket['expires'])
    end
  end
end
local function store()
  if #kept == 0 then return redis.call('DEL', KEYS[1]) end
  redis.call('SET', KEYS[1], '{"conversation_id": ' .. cjson.encode(ARGV[3]) ..
    ', "tickets": [' .. table.concat(kept, ', ') .. ']}')
  redis.call('EXPIRE', KEYS[1], math.ceil(latest - now) + 60)  -- no stale keys after a crash
end
"""
# ARGV: lifetime, now, conversation_id -> the new ticket's number.
_ISSUE = (
    _LUA_PRELUDE
    + """
local number, expires = last + 1, now + tonumber(ARGV[1])
table.insert(kept, cjson.encode(cjson.encode({number = number, expires = expires})))
latest = math.max(latest, expires)
store()
return number
"""
)
# ARGV: unused, now, conversation_id[, ticket to remove] -> tickets left.
_PRUNE = (
    _LUA_PRELUDE
    + """
store()
return #kept
"""
)


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket issue, finish and expiry run atomically in Redis."""

    def __init__(
        self,
        url: Text,
        key_prefix: Optional[Text] = None,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT_IN_SECONDS,
    ) -> None:
        import redis

        self.red = redis.Redis.from_url(url, socket_timeout=socket_timeout)
        self.key_prefix = DEFAULT_REDIS_LOCK_STORE_KEY_PREFIX
        if key_prefix:
            self._set_key_prefix(key_prefix)
        self._issue = self.red.register_script(_ISSUE)
        self._prune = self.red.register_script(_PRUNE)

    def _key(self, conversation_id: Text) -> Text:
        return self.key_prefix + conversation_id

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return int(
                self._issue(keys=[self._key(conversation_id)], args=[lock_lifetime, time.time(), conversation_id])
            )
        except Exception as e:
            raise LockError(f"Error while acquiring lock. Error:\n{e}") from e

    def update_lock(self, conversation_id: Text) -> None:
        self._prune(keys=[self._key(conversation_id)], args=[0, time.time(), conversation_id])

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._prune(keys=[self._key(conversation_id)], args=[0, time.time(), conversation_id, ticket_number])

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        # The script deletes the key when no ticket is left: no check-then-delete race.
        self.finish_serving(conversation_id, ticket_number)


class EnvLockStore(LockStore):
    """In memory when REDIS_URL is unset (one server), else AtomicRedisLockStore."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **_: Any) -> None:
        kwargs = (endpoint_config.kwargs if endpoint_config else None) or {}
        settings = load_settings()
        url = settings.redis_url or (endpoint_config.url if endpoint_config else None)
        if settings.sanic_workers > 1 and not url:
            # Rasa allows several workers with any custom lock store; in-memory locks
            # would let two workers answer one conversation at the same time.
            raise ValueError(
                f"SANIC_WORKERS={settings.sanic_workers} needs a shared lock store: set REDIS_URL "
                "(or run one worker per server and add servers)."
            )
        self.backend: LockStore = (
            AtomicRedisLockStore(url, key_prefix=kwargs.get("key_prefix")) if url else InMemoryLockStore()
        )

    # The base class's lock() and _acquire_lock() call these, so they all reach the backend.
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self.backend.get_lock(conversation_id)

    def delete_lock(self, conversation_id: Text) -> None:
        self.backend.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.backend.save_lock(lock)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        return self.backend.issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: Text) -> None:
        self.backend.update_lock(conversation_id)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self.backend.finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        self.backend.cleanup(conversation_id, ticket_number)
