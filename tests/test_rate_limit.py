"""Per-sender token bucket."""

from __future__ import annotations

from addons.channels.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_per_sender():
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=3, clock=clock)
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # other senders have their own bucket
    clock.now += 10  # 6 per minute: one token every 10 s
    assert limiter.allow("a") and not limiter.allow("a")


def test_zero_disables_and_idle_senders_are_forgotten():
    assert all(RateLimiter(per_minute=0).allow("a") for _ in range(1000))
    limiter = RateLimiter(per_minute=60, max_senders=2)
    for sender in ("a", "b", "c"):
        limiter.allow(sender)
    assert list(limiter._buckets) == ["b", "c"]


def test_from_settings(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "12")
    assert RateLimiter.from_settings().rate == 12 / 60
