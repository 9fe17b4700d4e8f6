"""Per-sender token bucket for the input channels (RATE_LIMIT_PER_MINUTE).

In-process only: with several servers each allows the full rate, which is fine
when the load balancer routes a sender to one server (it must anyway for
socket.io polling and WeChat retries).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Optional, Tuple


class RateLimiter:
    """`allow(sender)` spends one token; a sender's bucket refills at `per_minute` and holds `burst`."""

    def __init__(
        self,
        per_minute: int,
        burst: Optional[int] = None,
        max_senders: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(per_minute, 1))
        self.max_senders = max_senders
        self._clock = clock
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()
        self._lock = threading.Lock()  # channels may call from executor threads

    @classmethod
    def from_settings(cls) -> "RateLimiter":
        from addons.settings import Settings, load_settings

        # getattr: a settings object without the field (an older stub) means the default.
        return cls(getattr(load_settings(), "rate_limit_per_minute", Settings.rate_limit_per_minute))

    def allow(self, sender_id: str) -> bool:
        if self.rate <= 0:  # RATE_LIMIT_PER_MINUTE=0 disables the limit
            return True
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(sender_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[sender_id] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > self.max_senders:  # forget the longest-idle sender
                self._buckets.popitem(last=False)
        return allowed
