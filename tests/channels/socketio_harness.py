"""Harness for the socket.io channel: a real Sanic server on 127.0.0.1 that mounts
the channel the way `rasa run` does, and a scripted bot in place of Rasa's agent.

`serve_channel` runs in the caller's event loop (for python-socketio clients);
`BackgroundServer` runs the same in a thread (for a browser driven from sync code).
"""
from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

# Several apps in one process: without test mode Sanic's start-up "touch-up" rewrites
# its own functions again for the second app and fails (KeyError: 'connection_task').
Sanic.test_mode = True

CREDENTIALS = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "session_persistence": True,
    "socketio_path": "/socket.io",
}

CITATION = "《刑法》第二百四十五条"
QUESTION_ANSWER = (
    "催收人员未经你同意进入或赖在你家不走，可能构成非法侵入住宅。\n"
    "你可以：\n1. 明确要求对方离开；\n2. 拒不离开的，立即拨打 110 报警。"
    "\n\n"
    f"法律依据：{CITATION}：非法侵入他人住宅的，处三年以下有期徒刑或者拘役。"
)
QUICK_REPLIES = [
    {"title": "怎么投诉催收", "payload": "/ask_complaint"},
    {"title": "会不会坐牢", "payload": "/ask_criminal_risk"},
]
PAYLOAD_ANSWERS = {
    "/ask_complaint": "可以向贷款机构的客服投诉，也可以拨打 12378（银行保险消费者投诉热线）。",
    "/ask_criminal_risk": "单纯欠钱还不上不是犯罪；恶意透支、诈骗才可能涉及刑事责任。",
}


class ScriptedBot:
    """Stands in for Rasa's agent: records every message, answers deterministically.

    Free text gets QUESTION_ANSWER with the two QUICK_REPLIES (sent the way Rasa
    sends a response with buttons); a quick-reply payload gets its PAYLOAD_ANSWERS;
    `extra` maps further exact texts to answers.
    """

    def __init__(self, delay: float = 0.0, extra: Optional[Dict[str, str]] = None) -> None:
        self.delay = delay
        self.answers = dict(PAYLOAD_ANSWERS, **(extra or {}))
        self.calls: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.calls.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        text = message.text or ""
        out = message.output_channel
        if text in self.answers:
            await out.send_text_message(message.sender_id, self.answers[text])
        elif text.startswith("/"):
            await out.send_text_message(message.sender_id, f"未知的按钮：{text}")
        else:
            await out.send_text_with_buttons(message.sender_id, QUESTION_ANSWER, QUICK_REPLIES)

    @property
    def sender_ids(self) -> List[str]:
        return [call.sender_id for call in self.calls]


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve_channel(
    channel: InputChannel, bot: Callable[[UserMessage], Any]
) -> AsyncIterator[str]:
    """Run the channel in a Sanic app on a free port, mounted as `rasa run` mounts it.

    Yields the base URL (http://127.0.0.1:PORT).
    """
    app = Sanic(f"socketio_test_{uuid.uuid4().hex}")
    app.ctx.agent = SimpleNamespace(handle_message=bot)
    register([channel], app, route="/webhooks/")
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()  # (create_server has already started listening)
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        for connection in list(server.connections):
            connection.close_if_idle()
        await server.close()
        await server.after_stop()


class BackgroundServer:
    """`serve_channel` in a daemon thread with its own event loop."""

    def __init__(self, channel: InputChannel, bot: Callable[[UserMessage], Any]) -> None:
        self.channel = channel
        self.bot = bot
        self.base_url = ""
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stop: Optional[asyncio.Event] = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._run, name="socketio-test-server", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve_channel(self.channel, self.bot) as base_url:
            self.base_url = base_url
            self._ready.set()
            await self._stop.wait()

    def start(self, timeout: float = 20.0) -> "BackgroundServer":
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the test server did not start in time")
        if self._error is not None:
            raise RuntimeError(f"the test server failed to start: {self._error!r}") from self._error
        return self

    def stop(self, timeout: float = 20.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()


def run(coroutine: Any, timeout: float = 30.0) -> Any:
    """Run one scenario on a fresh event loop, bounded in time."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def make_credentials(**overrides: Any) -> Dict[str, Any]:
    credentials = dict(CREDENTIALS)
    credentials.update(overrides)
    return credentials
