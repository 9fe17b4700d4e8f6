"""Per-sender rate limit and no-silence-on-error in the REST, socket.io and WeChat channels,
each driven over real HTTP on 127.0.0.1 (Sanic mounted as `rasa run` mounts channels)."""

from __future__ import annotations

import uuid

import aiohttp
import pytest
from rasa.core.channels.rest import RestInput
from rasa.core.run import create_http_input_channels

from addons.channels.rate_limit import RateLimiter
from addons.channels.rest_channel import GuardedRestInput
from addons.channels.socketio_channel import PersistentSocketIOInput
from addons.messages import RATE_LIMITED, SERVICE_UNAVAILABLE, load_messages

from . import wechat_harness
from .channel_harness import Bot, SocketClient, post, socket_channel
from .socketio_harness import make_credentials, run, serve_channel as serve

LIMITED = load_messages()[RATE_LIMITED]
UNAVAILABLE = load_messages()[SERVICE_UNAVAILABLE]
LIMITED_TRADITIONAL = "你發消息太快了，請稍等一分鐘再發。如果有人正在威脅你的安全，請馬上撥打110。"


# --- REST -------------------------------------------------------------------------------


def test_rest_answers_like_rasas_channel():
    bot = Bot()

    async def scenario():
        async with serve(GuardedRestInput(RateLimiter(per_minute=60)), bot) as base:
            status, payload, _ = await post(base, {"sender": "alice", "message": "你好", "metadata": {"a": 1}})
            assert (status, payload) == (200, [{"recipient_id": "alice", "text": "收到：你好"}])
            status, payload, _ = await post(base, {"sender": 42, "message": "数字"})
            assert (status, payload) == (200, [{"recipient_id": "42", "text": "收到：数字"}])
            async with aiohttp.ClientSession() as session, session.get(f"{base}/webhooks/rest/") as health:
                assert await health.json() == {"status": "ok"}

    run(scenario())
    assert bot.texts == ["你好", "数字"]
    assert {call.input_channel for call in bot.calls} == {"rest"} and bot.calls[0].metadata == {"a": 1}


@pytest.mark.parametrize(
    "body, raw",
    [
        (None, b"not json"),
        ([1, 2], None),
        ({"message": "没有sender"}, None),
        ({"sender": "", "message": "空sender"}, None),
        ({"sender": "x" * 129, "message": "太长"}, None),
        ({"sender": "bob", "message": None}, None),
        ({"sender": "bob", "message": {"text": "对象"}}, None),
    ],
    ids=["not-json", "list", "no-sender", "empty-sender", "long-sender", "no-message", "object-message"],
)
def test_rest_bad_requests_are_400_and_never_reach_the_bot(body, raw):
    bot = Bot()

    async def scenario():
        async with serve(GuardedRestInput(RateLimiter(per_minute=60)), bot) as base:
            status, payload, _ = await post(base, body, raw=raw)
            assert status == 400 and "error" in payload

    run(scenario())
    assert bot.calls == []


def test_rest_sender_over_the_limit_gets_a_friendly_429_and_the_bot_is_not_called():
    bot = Bot()

    async def scenario():
        async with serve(GuardedRestInput(RateLimiter(per_minute=6, burst=2)), bot) as base:
            for text in ("一", "二"):
                assert (await post(base, {"sender": "alice", "message": text}))[0] == 200
            status, payload, headers = await post(base, {"sender": "alice", "message": "三"})
            assert status == 429 and headers["Retry-After"] == "60"
            assert payload == [{"recipient_id": "alice", "text": LIMITED}]
            _, payload, _ = await post(base, {"sender": "alice", "message": "催收的人能進我家嗎"})
            assert payload == [{"recipient_id": "alice", "text": LIMITED_TRADITIONAL}]
            assert (await post(base, {"sender": "bob", "message": "别人"}))[0] == 200  # per sender

    run(scenario())
    assert bot.texts == ["一", "二", "别人"]


@pytest.mark.parametrize("text, expected", [("你好", UNAVAILABLE), ("你們好", None)])
def test_rest_failure_with_nothing_said_gets_the_service_unavailable_text(text, expected):
    async def scenario():
        async with serve(GuardedRestInput(RateLimiter(per_minute=60)), Bot(fail="before")) as base:
            return await post(base, {"sender": "alice", "message": text})

    status, payload, _ = run(scenario())
    assert status == 200 and len(payload) == 1 and payload[0]["recipient_id"] == "alice"
    if expected:
        assert payload[0]["text"] == expected
    else:
        assert payload[0]["text"].startswith("系統暫時忙不過來")


def test_rest_failure_after_an_answer_returns_the_answer_only():
    async def scenario():
        async with serve(GuardedRestInput(RateLimiter(per_minute=60)), Bot(fail="after")) as base:
            return await post(base, {"sender": "alice", "message": "你好"})

    assert run(scenario())[:2] == (200, [{"recipient_id": "alice", "text": "收到：你好"}])


def test_rest_failure_does_not_log_the_users_text(caplog):
    async def scenario():
        async with serve(GuardedRestInput(RateLimiter(per_minute=60)), Bot(fail="before")) as base:
            await post(base, {"sender": "alice", "message": "秘密ZEBRA"})

    run(scenario())
    assert "RuntimeError" in caplog.text and "ZEBRA" not in caplog.text


def test_rest_stream_mode_still_works():
    async def scenario():
        async with serve(GuardedRestInput(RateLimiter(per_minute=60)), Bot()) as base:
            return await post(base, {"sender": "alice", "message": "你好"}, params={"stream": "true"})

    status, payload, _ = run(scenario())
    assert status == 200 and payload == {"recipient_id": "alice", "text": "收到：你好"}


def test_rest_channel_replaces_rasas_under_the_same_name_and_url(tmp_path):
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("addons.channels.rest_channel.GuardedRestInput:\n", encoding="utf-8")
    (channel,) = create_http_input_channels(None, str(credentials))
    assert type(channel) is GuardedRestInput and isinstance(channel, RestInput)
    assert channel.name() == "rest" and channel.url_prefix() == "rest"


# --- socket.io -------------------------------------------------------------------------------


def test_socketio_sender_over_the_limit_gets_a_friendly_text_and_the_bot_is_not_called():
    bot = Bot()
    session_a, session_b = uuid.uuid4().hex, uuid.uuid4().hex

    async def scenario():
        async with serve(socket_channel(RateLimiter(per_minute=6, burst=2)), bot) as base:
            client = await SocketClient().open(base, session_a)
            assert await client.ask("一", session_a) == "收到：一"
            assert await client.ask("二", session_a) == "收到：二"
            assert await client.ask("三", session_a) == LIMITED
            assert await client.ask("催收的人能進我家嗎", session_a) == LIMITED_TRADITIONAL
            other = await SocketClient().open(base, session_b)
            assert await other.ask("别人", session_b) == "收到：别人"
            await client.close()
            await other.close()

    run(scenario())
    assert bot.texts == ["一", "二", "别人"]


def test_socketio_limit_follows_the_session_across_reconnects():
    bot = Bot()
    session = uuid.uuid4().hex

    async def scenario():
        async with serve(socket_channel(RateLimiter(per_minute=6, burst=1)), bot) as base:
            first = await SocketClient().open(base, session)
            assert await first.ask("一", session) == "收到：一"
            await first.close()
            second = await SocketClient().open(base, session)  # a page reload: new socket, same session
            assert await second.ask("二", session) == LIMITED
            await second.close()

    run(scenario())
    assert bot.texts == ["一"]


def test_socketio_failure_gets_the_service_unavailable_text_instead_of_silence():
    session = uuid.uuid4().hex

    async def scenario():
        async with serve(socket_channel(RateLimiter(per_minute=60)), Bot(fail="before")) as base:
            client = await SocketClient().open(base, session)
            assert await client.ask("你好", session) == UNAVAILABLE
            await client.close()

    run(scenario())


def test_project_socketio_channel_has_a_limiter_from_settings(monkeypatch):
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "12")
    channel = PersistentSocketIOInput.from_credentials(make_credentials())
    assert channel.limiter.rate == 12 / 60


# --- WeChat ---------------------------------------------------------------------------------------


def test_wechat_user_over_the_limit_gets_a_friendly_text_and_retries_do_not_count():
    bot = wechat_harness.ScriptedBot()

    async def scenario():
        channel = wechat_harness.make_channel(limiter=RateLimiter(per_minute=6, burst=2))
        async with wechat_harness.serve_channel(channel, bot) as wechat:

            async def content(xml: str) -> str:
                status, body, params = await wechat.post(xml)
                assert status == 200
                return wechat.read_reply(body, params)["Content"]

            assert await content(wechat_harness.text_xml("一", msg_id=1)) == "收到：一"
            assert await content(wechat_harness.text_xml("一", msg_id=1)) == "收到：一"  # WeChat's retry
            assert await content(wechat_harness.text_xml("二", msg_id=2)) == "收到：二"
            assert await content(wechat_harness.text_xml("三", msg_id=3)) == LIMITED
            other = wechat_harness.text_xml("别人", msg_id=4, openid="oOther_0123456789abcdefghij")
            assert await content(other) == "收到：别人"

    run(scenario())
    assert bot.texts == ["一", "二", "别人"]


def test_wechat_channel_from_credentials_has_a_limiter_from_settings(monkeypatch, no_wechat_env):
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "7")
    from addons.channels.wechat_channel import WeChatInput

    assert WeChatInput.from_credentials({"token": "t"}).limiter.rate == 7 / 60
