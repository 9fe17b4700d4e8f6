"""The web widget's socket.io channel, driven by a real python-socketio client over HTTP.

The client uses the polling transport: python-engineio's async websocket client
needs aiohttp >= 3.10 and Rasa pins < 3.10 (see shared pitfalls).
"""

from __future__ import annotations

import asyncio
import uuid
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
import pytest
import socketio
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.run import create_http_input_channels

from addons.channels.socketio_channel import PersistentSocketIOInput, resolve_static

from .socketio_harness import (
    CITATION,
    PAYLOAD_ANSWERS,
    QUICK_REPLIES,
    ScriptedBot,
    make_credentials,
    run,
    serve_channel,
)

ROOT = Path(__file__).resolve().parents[2]
REPLY_TIMEOUT = 5.0


class Client:
    """A browser-like socket.io client: polling transport, events collected in queues."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.confirms: "asyncio.Queue[Any]" = asyncio.Queue()
        self.replies: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        self.sio.on("session_confirm", self.confirms.put_nowait)
        self.sio.on("bot_uttered", self.replies.put_nowait)

    async def connect(self, base_url: str) -> "Client":
        await self.sio.connect(base_url, transports=["polling"], socketio_path="/socket.io", wait_timeout=10)
        return self

    async def start_session(self, session_id: Optional[str]) -> str:
        await self.sio.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirms.get(), REPLY_TIMEOUT)

    async def say(self, text: str, session_id: Optional[str]) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": session_id})

    async def reply(self, timeout: float = REPLY_TIMEOUT) -> Dict[str, Any]:
        return await asyncio.wait_for(self.replies.get(), timeout)

    async def replies_until_quick_replies(self) -> List[Dict[str, Any]]:
        """Every message of one bot turn that ends with quick replies."""
        messages = [await self.reply()]
        while not messages[-1].get("quick_replies"):
            messages.append(await self.reply())
        return messages

    async def close(self) -> None:
        """Leave as a reloading page does: drop the connection, wait for nothing.

        (A graceful `sio.disconnect()` waits ~30 s for the pending long-poll, which
        python-engineio's server only ends at its ping timeout.)
        """
        await self.sio.eio.disconnect(abort=True)
        await asyncio.sleep(0.1)


def persistent_channel(**overrides: Any) -> PersistentSocketIOInput:
    channel = PersistentSocketIOInput.from_credentials(make_credentials(**overrides))
    assert isinstance(channel, PersistentSocketIOInput)
    return channel


# --- session persistence (the pitfall) ---------------------------------------


def test_reply_arrives_again_after_reconnecting_with_the_same_session_id():
    session_id = uuid.uuid4().hex
    bot = ScriptedBot()

    async def scenario() -> None:
        async with serve_channel(persistent_channel(), bot) as base_url:
            first = await Client().connect(base_url)
            assert await first.start_session(session_id) == session_id
            await first.say("催收的人闯进我家不走，合法吗？", session_id)
            turn = await first.replies_until_quick_replies()
            assert CITATION in turn[-1]["text"]
            assert [(q["title"], q["payload"]) for q in turn[-1]["quick_replies"]] == [
                (q["title"], q["payload"]) for q in QUICK_REPLIES
            ]
            await first.close()

            # A page reload: a new socket (new sid), the session_id from localStorage.
            second = await Client().connect(base_url)
            assert second.sio.get_sid() != first.sio.get_sid()
            assert await second.start_session(session_id) == session_id
            await second.say("/ask_complaint", session_id)
            assert (await second.reply())["text"] == PAYLOAD_ANSWERS["/ask_complaint"]
            await second.close()

    run(scenario())
    assert bot.sender_ids == [session_id, session_id]
    assert {call.input_channel for call in bot.calls} == {"socketio"}


def test_stock_rasa_channel_loses_the_reply_which_is_why_the_subclass_exists():
    """Documents RasaHQ/rasa#13027 with the pinned python-socketio.

    If this starts failing, Rasa or python-socketio fixed the bug upstream and the
    subclass's fix is no longer needed (it stays harmless).
    """
    session_id = uuid.uuid4().hex
    bot = ScriptedBot()

    async def scenario() -> None:
        channel = SocketIOInput.from_credentials(make_credentials())
        async with serve_channel(channel, bot) as base_url:
            client = await Client().connect(base_url)
            assert await client.start_session(session_id) == session_id
            await client.say("你好", session_id)
            with pytest.raises(asyncio.TimeoutError):
                await client.reply(timeout=1.5)
            await client.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "coroutine ... was never awaited"
        run(scenario())
    assert bot.sender_ids == [session_id]  # the bot answered; the answer went nowhere


def test_session_request_without_id_gets_a_fresh_one_and_replies_arrive():
    bot = ScriptedBot()

    async def scenario() -> str:
        async with serve_channel(persistent_channel(), bot) as base_url:
            client = await Client().connect(base_url)
            session_id = await client.start_session(None)
            assert isinstance(session_id, str) and len(session_id) == 32
            await client.say("/ask_criminal_risk", session_id)
            assert (await client.reply())["text"] == PAYLOAD_ANSWERS["/ask_criminal_risk"]
            await client.close()
            return session_id

    session_id = run(scenario())
    assert bot.sender_ids == [session_id]


def test_two_tabs_of_one_session_both_receive_the_reply():
    session_id = uuid.uuid4().hex
    bot = ScriptedBot()

    async def scenario() -> None:
        async with serve_channel(persistent_channel(), bot) as base_url:
            tab1 = await Client().connect(base_url)
            tab2 = await Client().connect(base_url)
            await tab1.start_session(session_id)
            await tab2.start_session(session_id)
            await tab1.say("/ask_complaint", session_id)
            assert (await tab1.reply())["text"] == PAYLOAD_ANSWERS["/ask_complaint"]
            assert (await tab2.reply())["text"] == PAYLOAD_ANSWERS["/ask_complaint"]
            await tab1.close()
            await tab2.close()

    run(scenario())


def test_message_sent_before_session_request_still_gets_its_reply():
    """A client that flushes buffered messages on reconnect before asking for its session."""
    session_id = uuid.uuid4().hex
    bot = ScriptedBot()

    async def scenario() -> None:
        async with serve_channel(persistent_channel(), bot) as base_url:
            client = await Client().connect(base_url)
            await client.say("/ask_complaint", session_id)
            assert (await client.reply())["text"] == PAYLOAD_ANSWERS["/ask_complaint"]
            await client.close()

    run(scenario())
    assert bot.sender_ids == [session_id]


def test_message_without_session_id_is_ignored_when_persistence_is_on():
    bot = ScriptedBot()

    async def scenario() -> None:
        async with serve_channel(persistent_channel(), bot) as base_url:
            client = await Client().connect(base_url)
            await client.start_session(None)
            with pytest.warns(UserWarning, match="session_id"):
                await client.say("你好", None)
                await asyncio.sleep(0.5)
            await client.close()

    run(scenario())
    assert bot.calls == []


def test_other_sessions_do_not_receive_each_others_replies():
    bot = ScriptedBot()

    async def scenario() -> None:
        async with serve_channel(persistent_channel(), bot) as base_url:
            alice, bob = await Client().connect(base_url), await Client().connect(base_url)
            alice_id = await alice.start_session(uuid.uuid4().hex)
            await bob.start_session(uuid.uuid4().hex)
            await alice.say("/ask_complaint", alice_id)
            assert (await alice.reply())["text"] == PAYLOAD_ANSWERS["/ask_complaint"]
            with pytest.raises(asyncio.TimeoutError):
                await bob.reply(timeout=0.7)
            await alice.close()
            await bob.close()

    run(scenario())


def test_without_persistence_it_behaves_like_rasa_sender_is_the_socket():
    bot = ScriptedBot()

    async def scenario() -> str:
        async with serve_channel(persistent_channel(session_persistence=False), bot) as base_url:
            client = await Client().connect(base_url)
            await client.start_session(None)
            await client.say("/ask_complaint", None)
            assert (await client.reply())["text"] == PAYLOAD_ANSWERS["/ask_complaint"]
            sid = client.sio.get_sid()
            await client.close()
            return sid

    sid = run(scenario())
    assert bot.sender_ids == [sid]


def test_metadata_is_passed_on_like_rasa_does():
    bot = ScriptedBot()
    session_id = uuid.uuid4().hex

    async def scenario() -> None:
        async with serve_channel(persistent_channel(), bot) as base_url:
            client = await Client().connect(base_url)
            await client.start_session(session_id)
            await client.sio.emit(
                "user_uttered",
                {"message": "/ask_complaint", "session_id": session_id, "metadata": '{"page": "demo"}'},
            )
            await client.reply()
            await client.close()

    run(scenario())
    assert bot.calls[0].metadata == {"page": "demo"}


def test_output_channel_for_external_events_reaches_the_session():
    """`get_output_channel` (used by /conversations/.../trigger_intent) emits to the session's room."""
    session_id = uuid.uuid4().hex
    channel = persistent_channel()

    async def scenario() -> None:
        async with serve_channel(channel, ScriptedBot()) as base_url:
            client = await Client().connect(base_url)
            await client.start_session(session_id)
            output = channel.get_output_channel()
            assert output is not None
            await output.send_text_message(session_id, "提醒：今天是还款日。")
            assert (await client.reply())["text"] == "提醒：今天是还款日。"
            await client.close()

    run(scenario())


# --- credentials --------------------------------------------------------------


def test_credentials_entry_loads_this_channel(tmp_path: Path):
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        "addons.channels.socketio_channel.PersistentSocketIOInput:\n"
        "  user_message_evt: user_uttered\n"
        "  bot_message_evt: bot_uttered\n"
        "  session_persistence: true\n"
        "  socketio_path: /socket.io\n",
        encoding="utf-8",
    )
    (channel,) = create_http_input_channels(None, str(credentials))
    assert isinstance(channel, PersistentSocketIOInput)
    assert channel.session_persistence is True
    assert channel.url_prefix() == "socketio"


# --- the widget's files --------------------------------------------------------


def test_widget_files_are_served_under_the_channel_prefix():
    async def scenario() -> None:
        async with serve_channel(persistent_channel(), ScriptedBot()) as base_url:
            async with aiohttp.ClientSession() as http:

                async def get(path: str, **kwargs: Any):
                    async with http.get(base_url + path, **kwargs) as reply:
                        return reply.status, reply.headers, await reply.read()

                status, _, body = await get("/webhooks/socketio/")
                assert status == 200 and b"ok" in body

                status, headers, body = await get("/webhooks/socketio/webchat/")
                assert status == 200
                assert headers["Content-Type"].startswith("text/html")
                assert b'src="widget.js"' in body

                status, headers, _ = await get("/webhooks/socketio/webchat", allow_redirects=False)
                assert status == 301 and headers["Location"] == "/webhooks/socketio/webchat/"

                for path, kind in [
                    ("widget.js", "application/javascript"),
                    ("widget.css", "text/css"),
                    ("vendor/socket.io.min.js", "application/javascript"),
                ]:
                    status, headers, body = await get("/webhooks/socketio/webchat/" + path)
                    assert status == 200, path
                    assert headers["Content-Type"].startswith(kind), path
                    assert body == (ROOT / "web" / path).read_bytes()

                for bad in [
                    "/webhooks/socketio/webchat/nope.js",
                    "/webhooks/socketio/webchat/../socketio_channel.py",
                    "/webhooks/socketio/webchat/%2e%2e/%2e%2e/addons/channels/socketio_channel.py",
                    "/webhooks/socketio/webchat/..%2f..%2faddons%2fsocketio_channel.py",
                ]:
                    status, _, _ = await get(bad)
                    assert status == 404, bad

    run(scenario())


@pytest.mark.parametrize(
    "relative",
    [
        "../addons/channels/socketio_channel.py",
        "/etc/passwd",
        "..\\addons\\socketio_channel.py",
        ".hidden",
        "vendor/../../README.md",
        "",
    ],
)
def test_static_resolution_never_leaves_web_dir(relative: str, tmp_path: Path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html>", encoding="utf-8")
    (web / ".hidden").write_text("x", encoding="utf-8")
    (tmp_path / "README.md").write_text("secret", encoding="utf-8")
    resolved = resolve_static(web, relative)
    if relative == "":
        assert resolved == (web / "index.html").resolve()
    else:
        assert resolved is None
