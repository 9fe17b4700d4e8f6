"""A small in-memory mapping whose entries expire after a fixed time."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable, Hashable, Optional


class TTLCache:
    """Dict-like store: entries expire ``ttl`` seconds after they were set.

    The oldest entries are dropped first when ``max_items`` is exceeded, so the
    memory use stays bounded whatever the traffic.
    """

    def __init__(
        self,
        ttl: float,
        max_items: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._clock = clock
        self._items: "OrderedDict[Hashable, tuple[float, Any]]" = OrderedDict()

    def _purge(self) -> None:
        now = self._clock()
        while self._items:
            key, (expires, _) = next(iter(self._items.items()))
            if expires > now and len(self._items) <= self.max_items:
                break
            self._items.popitem(last=False)

    def get(self, key: Hashable, default: Any = None) -> Any:
        self._purge()
        item = self._items.get(key)
        return default if item is None else item[1]

    def set(self, key: Hashable, value: Any) -> None:
        self._items.pop(key, None)
        self._items[key] = (self._clock() + self.ttl, value)
        self._purge()

    def pop(self, key: Hashable, default: Any = None) -> Any:
        item = self._items.pop(key, None)
        return default if item is None else item[1]

    def __contains__(self, key: Hashable) -> bool:
        self._purge()
        return key in self._items

    def __len__(self) -> int:
        self._purge()
        return len(self._items)

    def setdefault(self, key: Hashable, value: Any) -> Optional[Any]:
        """Store ``value`` unless ``key`` is present; return the stored value."""
        self._purge()
        item = self._items.get(key)
        if item is not None:
            return item[1]
        self.set(key, value)
        return value
