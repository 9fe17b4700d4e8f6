"""What the REST, socket.io and WeChat channel tests share: a bot that answers or fails,
a REST client and a socket.io client. Servers: socketio_harness.serve_channel (any
channel) and wechat_harness.serve_channel (WeChat, with signed requests)."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, List, Optional, Tuple

import aiohttp
import socketio
from rasa.core.channels.channel import UserMessage

from addons.channels.rate_limit import RateLimiter
from addons.channels.socketio_channel import PersistentSocketIOInput

from .socketio_harness import make_credentials


class Bot:
    """Stands in for Rasa's agent: answers "收到：<text>", or fails as told."""

    def __init__(self, fail: Optional[str] = None) -> None:
        self.fail = fail  # None, "before" (nothing said) or "after" (one message said)
        self.calls: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.calls.append(message)
        if self.fail == "before":
            raise RuntimeError("tracker store down")
        await message.output_channel.send_text_message(message.sender_id, f"收到：{message.text}")
        if self.fail == "after":
            raise RuntimeError("failed after answering")

    @property
    def texts(self) -> List[str]:
        return [call.text for call in self.calls]


async def post(
    base_url: str, body: Any, raw: Optional[bytes] = None, params: Optional[Dict] = None
) -> Tuple[int, Any, Any]:
    """POST to the REST webhook; status, JSON (or text) and headers."""
    async with aiohttp.ClientSession() as session:
        data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
        async with session.post(f"{base_url}/webhooks/rest/webhook", data=data, params=params or {}) as reply:
            text = await reply.text()
            try:
                payload = json.loads(text)
            except ValueError:
                payload = text
            return reply.status, payload, reply.headers


class SocketClient:
    """A socket.io client speaking the web widget's events."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.replies: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        self.confirms: "asyncio.Queue[Any]" = asyncio.Queue()
        self.sio.on("bot_uttered", self.replies.put_nowait)
        self.sio.on("session_confirm", self.confirms.put_nowait)

    async def connect(self, base_url: str) -> "SocketClient":
        await self.sio.connect(base_url, transports=["polling"], socketio_path="/socket.io", wait_timeout=10)
        return self

    async def request_session(self, session_id: Any) -> Any:
        """The session id the server confirms for this request."""
        await self.sio.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirms.get(), 5)

    async def open(self, base_url: str, session_id: str) -> "SocketClient":
        await self.connect(base_url)
        assert await self.request_session(session_id) == session_id
        return self

    async def ask(self, text: str, session_id: Any) -> str:
        await self.sio.emit("user_uttered", {"message": text, "session_id": session_id})
        return (await asyncio.wait_for(self.replies.get(), 5))["text"]

    async def close(self) -> None:
        await self.sio.eio.disconnect(abort=True)
        await asyncio.sleep(0.1)


def socket_channel(limiter: RateLimiter) -> PersistentSocketIOInput:
    channel = PersistentSocketIOInput.from_credentials(make_credentials())
    channel.limiter = limiter
    return channel
