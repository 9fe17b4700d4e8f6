"""Checks every webhook request passes before its body is trusted.

WeChat signs the query string only (sha1 of token, timestamp, nonce): in
plaintext mode the body is not covered, so a captured query string could be
replayed with another body. Hence a timestamp window and a nonce cache. A nonce
seen again with the *same* body is let through (it may be WeChat retrying the
same push; the message de-duplication answers it without a second bot turn);
with a different body it is refused.
"""

from __future__ import annotations

import hashlib
import time
from typing import Callable, Optional

from sanic.request import Request
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from addons.channels.wechat.ttl_cache import TTLCache

MAX_BODY_BYTES = 64 * 1024
# An oversized body is read and discarded up to this size, so that the client
# sees the 400; beyond it the connection is closed instead.
DRAIN_LIMIT_BYTES = 1024 * 1024
TIMESTAMP_WINDOW_SECONDS = 300


def signature_valid(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    """True when ``signature`` is WeChat's signature of this timestamp and nonce."""
    if not (token and signature and timestamp and nonce):
        return False
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        return False
    return True


class ReplayGuard:
    """Timestamp window (± ``window`` seconds) and nonce replay cache."""

    def __init__(
        self,
        window: float = TIMESTAMP_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
        max_nonces: int = 50_000,
    ) -> None:
        self.window = window
        self._clock = clock
        # A nonce must be remembered as long as its timestamp can still pass.
        self._nonces = TTLCache(ttl=2 * window, max_items=max_nonces)

    def timestamp_fresh(self, timestamp: str) -> bool:
        try:
            sent = int(timestamp)
        except (TypeError, ValueError):
            return False
        return abs(self._clock() - sent) <= self.window

    def nonce_accepted(self, nonce: str, timestamp: str, body: bytes) -> bool:
        """Remember the nonce; refuse it when it comes back with another body."""
        fingerprint = hashlib.sha256(timestamp.encode() + b"\0" + body).hexdigest()
        return self._nonces.setdefault(nonce, fingerprint) == fingerprint


async def read_body_limited(request: Request, limit: int = MAX_BODY_BYTES) -> Optional[bytes]:
    """The request body, or None when it is larger than ``limit`` bytes.

    Meant for a streamed route: the body is read chunk by chunk and reading
    stops as soon as the limit is passed.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        _stop_draining(request)
        return None
    chunks = []
    size = 0
    while request.stream is not None:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            _stop_draining(request)
            return None
        chunks.append(chunk)
    body = b"".join(chunks) or (request.body or b"")  # non-streamed route: already read
    return body if len(body) <= limit else None


def _stop_draining(request: Request) -> None:
    """Make Sanic close the connection instead of draining a huge body."""
    if request.stream is not None and hasattr(request.stream, "request_max_size"):
        request.stream.request_max_size = DRAIN_LIMIT_BYTES
