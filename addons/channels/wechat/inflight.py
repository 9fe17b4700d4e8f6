"""One bot turn per WeChat message, however often WeChat retries it.

WeChat re-sends a message when it has no answer within 5 s. The first request
starts the bot turn; retries await the same task. An answer is either given
passively (in the HTTP reply, which may be repeated: WeChat shows one) or,
once a request had to answer ``success`` in time, pushed exactly once later.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Generic, Optional, Tuple, TypeVar

from addons.channels.wechat.ttl_cache import TTLCache

T = TypeVar("T")
DEDUP_TTL_SECONDS = 600  # longer than the timestamp window: replays are answered from here


class PendingAnswer(Generic[T]):
    """A running bot turn and how its answer is delivered (passive or pushed)."""

    def __init__(self, task: "asyncio.Task[T]", on_late: Callable[[T], Any]) -> None:
        self.task = task
        self._on_late = on_late
        self.passive = False
        self.pushed = False

    async def claim(self, timeout: float) -> Tuple[Optional[T], bool]:
        """Wait up to ``timeout`` s for the answer to send passively.

        Returns ``(answer, first)``: ``answer`` is None when the answer goes
        through the push path instead (the caller replies ``success``);
        ``first`` tells whether this is the first passive claim.
        """
        if self.pushed:
            return None, False
        try:
            answer = await asyncio.wait_for(asyncio.shield(self.task), max(timeout, 0.0))
        except asyncio.TimeoutError:
            self._switch_to_push()
            return None, False
        except asyncio.CancelledError:  # the HTTP request went away: do not lose the answer
            self._switch_to_push()
            raise
        if self.pushed:
            return None, False
        first = not self.passive
        self.passive = True
        return answer, first

    def _switch_to_push(self) -> None:
        if self.pushed or self.passive:
            return
        self.pushed = True
        self.task.add_done_callback(self._deliver_late)

    def _deliver_late(self, task: "asyncio.Task[T]") -> None:
        if task.cancelled() or task.exception() is not None:
            return
        self._on_late(task.result())


class InflightAnswers:
    """Bot turns by message key (MsgId, or FromUserName+CreateTime for events)."""

    def __init__(self, ttl: float = DEDUP_TTL_SECONDS, max_items: int = 20_000) -> None:
        self._pending = TTLCache(ttl=ttl, max_items=max_items)

    def get_or_start(
        self,
        key: str,
        turn: Callable[[], Awaitable[T]],
        on_late: Callable[[T], Any],
    ) -> Tuple[PendingAnswer[T], bool]:
        """The pending answer for ``key``; starts ``turn()`` if it is new."""
        pending = self._pending.get(key)
        if pending is not None:
            return pending, False
        pending = PendingAnswer(asyncio.ensure_future(turn()), on_late)
        self._pending.set(key, pending)
        return pending, True
