"""The one channel guard (addons/channels/guard.py) as the REST, socket.io and WeChat channels use it:
the same sender-ID rule, the same rate-limit and failure texts from addons/messages.yml (in the
user's script), the same health route. Each channel runs over real HTTP on 127.0.0.1."""

from __future__ import annotations

import ast
import asyncio
import itertools
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List

import aiohttp
import pytest
import yaml

from addons.channels.guard import InvalidSenderId, checked_sender_id
from addons.channels.rate_limit import RateLimiter
from addons.channels.rest_channel import GuardedRestInput
from addons.channels.wechat.identity import sender_id_for
from addons.messages import (
    MENU_LINE,
    MESSAGE_KEYS,
    MESSAGES_FILE,
    NOT_TEXT,
    RATE_LIMITED,
    SERVICE_UNAVAILABLE,
    VOICE_NOT_RECOGNISED,
    load_messages,
)
from chinese_text.script import to_traditional

from . import wechat_harness
from .channel_harness import Bot, SocketClient, post, socket_channel
from .socketio_harness import run, serve_channel

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = ["rest", "socketio", "wechat"]
ALICE = "oAlice_0123456789abcdefghij"  # usable as REST sender, socket.io session and WeChat openid
BOB = "oBob_0123456789abcdefghijkl"
TRADITIONAL_QUESTION = "催收的人能進我家嗎"

LIMITED = load_messages()[RATE_LIMITED]
UNAVAILABLE = load_messages()[SERVICE_UNAVAILABLE]
# Written out once, so that a change of converter or text shows here.
LIMITED_TRADITIONAL = "你發消息太快了，請稍等一分鐘再發。如果有人正在威脅你的安全，請馬上撥打110。"
UNAVAILABLE_TRADITIONAL = "系統暫時忙不過來，請稍後再試。如果有人正在威脅你的安全，請馬上撥打110。"
NOT_TEXT_TRADITIONAL = "暫時只能看懂文字消息，請直接輸入你的問題。"

Ask = Callable[[str, str], Awaitable[List[str]]]


def make_channel(kind: str, limiter: RateLimiter) -> Any:
    if kind == "rest":
        return GuardedRestInput(limiter)
    if kind == "socketio":
        return socket_channel(limiter)
    return wechat_harness.make_channel(limiter=limiter)


@asynccontextmanager
async def talk_to(kind: str, bot: Callable[..., Any], limiter: RateLimiter) -> AsyncIterator[Ask]:
    """`ask(text, user)`: the texts the user sees for one message, over the real channel."""
    channel = make_channel(kind, limiter)
    if kind == "rest":
        async with serve_channel(channel, bot) as base:

            async def ask_rest(text: str, user: str) -> List[str]:
                _, payload, _ = await post(base, {"sender": user, "message": text})
                return [reply["text"] for reply in payload]

            yield ask_rest
    elif kind == "socketio":
        async with serve_channel(channel, bot) as base:
            clients: Dict[str, SocketClient] = {}

            async def ask_socket(text: str, user: str) -> List[str]:
                if user not in clients:
                    clients[user] = await SocketClient().open(base, user)
                client = clients[user]
                texts = [await client.ask(text, user)]
                await asyncio.sleep(0.15)  # anything said after the first reply
                while not client.replies.empty():
                    texts.append(client.replies.get_nowait()["text"])
                return texts

            try:
                yield ask_socket
            finally:
                for client in clients.values():
                    await client.close()
    else:
        async with wechat_harness.serve_channel(channel, bot) as wechat:
            msg_ids = itertools.count(1)

            async def ask_wechat(text: str, user: str) -> List[str]:
                status, body, params = await wechat.post(wechat_harness.text_xml(text, next(msg_ids), user))
                assert status == 200
                return [wechat.read_reply(body, params)["Content"]]

            yield ask_wechat


# --- rate limit and failure: the same texts on every channel ------------------------------------------


@pytest.mark.parametrize("kind", CHANNELS)
def test_a_sender_over_the_limit_gets_the_messages_yml_text_on_every_channel(kind):
    bot = Bot()

    async def scenario():
        async with talk_to(kind, bot, RateLimiter(per_minute=6, burst=1)) as ask:
            return [await ask("一", ALICE), await ask("二", ALICE), await ask(TRADITIONAL_QUESTION, ALICE)], await ask(
                "别人", BOB
            )

    alice, bob = run(scenario())
    assert alice == [["收到：一"], [LIMITED], [LIMITED_TRADITIONAL]]
    assert LIMITED_TRADITIONAL == to_traditional(LIMITED)
    assert bob == ["收到：别人"]  # per sender
    assert bot.texts == ["一", "别人"]


@pytest.mark.parametrize("kind", CHANNELS)
def test_a_failing_bot_gets_the_same_text_with_110_on_every_channel(kind):
    bot = Bot(fail="before")

    async def scenario():
        async with talk_to(kind, bot, RateLimiter(per_minute=60)) as ask:
            return await ask("你好", ALICE), await ask(TRADITIONAL_QUESTION, ALICE)

    simplified, traditional = run(scenario())
    assert simplified == [UNAVAILABLE] and traditional == [UNAVAILABLE_TRADITIONAL]
    assert UNAVAILABLE_TRADITIONAL == to_traditional(UNAVAILABLE)
    for text in simplified + traditional:
        assert "你" in text and "您" not in text and "110" in text
    assert bot.texts == ["你好", TRADITIONAL_QUESTION]


@pytest.mark.parametrize("kind", CHANNELS)
def test_what_the_bot_said_before_failing_is_kept_and_no_apology_added(kind):
    async def scenario():
        async with talk_to(kind, Bot(fail="after"), RateLimiter(per_minute=60)) as ask:
            return await ask("你好", ALICE)

    assert run(scenario()) == ["收到：你好"]


# --- WeChat: its own texts are the shared ones, in the user's script --------------------------------------


def test_wechat_replies_without_a_text_follow_the_script_the_user_wrote_last():
    def answer(text: str) -> List[Dict[str, Any]]:
        if text == "好的":  # no script-distinctive character: the earlier texts decide
            raise RuntimeError("action server down")
        return [{"text": f"收到：{text}"}]

    bot = wechat_harness.ScriptedBot(answer=answer)

    async def scenario():
        async with wechat_harness.serve_channel(wechat_harness.make_channel(), bot) as wechat:

            async def content(xml: str) -> str:
                status, body, params = await wechat.post(xml)
                assert status == 200
                return wechat.read_reply(body, params)["Content"]

            seen = [
                await content(wechat_harness.text_xml(TRADITIONAL_QUESTION, msg_id=1, openid=ALICE)),
                await content(wechat_harness.image_xml(msg_id=2, openid=ALICE)),
                await content(wechat_harness.voice_xml("", msg_id=3, openid=ALICE)),
                await content(wechat_harness.text_xml("好的", msg_id=4, openid=ALICE)),
                await content(wechat_harness.text_xml("  ", msg_id=5, openid=ALICE)),
            ]
            # Another user, and Alice once she writes Simplified again.
            seen.append(await content(wechat_harness.image_xml(msg_id=6, openid=BOB)))
            await content(wechat_harness.text_xml("催收的人能进我家吗", msg_id=7, openid=ALICE))
            seen.append(await content(wechat_harness.image_xml(msg_id=8, openid=ALICE)))
            return seen

    seen = run(scenario())
    assert seen == [
        "收到：" + TRADITIONAL_QUESTION,
        NOT_TEXT_TRADITIONAL,
        to_traditional(load_messages()[VOICE_NOT_RECOGNISED]),
        UNAVAILABLE_TRADITIONAL,
        NOT_TEXT_TRADITIONAL,
        load_messages()[NOT_TEXT],
        load_messages()[NOT_TEXT],
    ]
    assert NOT_TEXT_TRADITIONAL == to_traditional(load_messages()[NOT_TEXT])
    assert seen[2] == "沒有聽清這條語音，請改用文字發送。"


def test_wechat_menu_lines_come_from_messages_yml_in_the_users_script():
    def answer(text: str) -> List[Dict[str, Any]]:
        if text.startswith("/"):
            return [{"text": f"payload {text}"}]
        return [{"text": "请选择：", "buttons": [{"title": "查询余额", "payload": "/check_balance"}]}]

    bot = wechat_harness.ScriptedBot(answer=answer)

    async def scenario():
        async with wechat_harness.serve_channel(wechat_harness.make_channel(), bot) as wechat:

            async def content(text: str, msg_id: int, openid: str) -> str:
                status, body, params = await wechat.post(wechat_harness.text_xml(text, msg_id, openid))
                return wechat.read_reply(body, params)["Content"]

            return [
                await content(TRADITIONAL_QUESTION, 1, ALICE),
                await content("1", 2, ALICE),
                await content("催收的人能进我家吗", 3, BOB),
            ]

    traditional_menu, choice, simplified_menu = run(scenario())
    assert traditional_menu == "请选择：\n回覆 1 查询余额"  # the bot's own text is the action server's business
    assert choice == "payload /check_balance"
    assert simplified_menu == "请选择：\n回复 1 查询余额"
    assert load_messages()[MENU_LINE] == "回复 {number} {title}"


# --- sender IDs: one rule --------------------------------------------------------------------------------

WECHAT_USERS_ID = sender_id_for(wechat_harness.OPENID, wechat_harness.APP_SECRET)  # a real WeChat conversation
BAD_SENDER_IDS = ["", "   ", "x" * 129, True, None, ["alice"], {"id": 1}]


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("value", BAD_SENDER_IDS, ids=["empty", "blank", "long", "bool", "none", "list", "object"])
def test_the_same_sender_ids_are_refused_on_every_channel(value, channel):
    with pytest.raises(InvalidSenderId, match="non-empty string of at most 128 characters"):
        checked_sender_id(value, channel)


def test_numbers_are_text_and_ids_in_the_wechat_namespace_belong_to_wechat_only():
    assert checked_sender_id(42, "rest") == "42" and checked_sender_id(1.5, "socketio") == "1.5"
    assert checked_sender_id("x" * 128, "rest") == "x" * 128
    assert checked_sender_id(WECHAT_USERS_ID, "wechat") == WECHAT_USERS_ID
    for channel in ("rest", "socketio"):
        with pytest.raises(InvalidSenderId, match="reserved for the wechat channel"):
            checked_sender_id(WECHAT_USERS_ID, channel)
    with pytest.raises(InvalidSenderId):
        checked_sender_id("o user", "wechat", allowed=re.compile(r"[A-Za-z0-9_-]+"))


@pytest.mark.parametrize("sender", ["", "x" * 129, WECHAT_USERS_ID], ids=["empty", "long", "wechat-users-id"])
def test_rest_refuses_a_bad_or_forged_sender_with_a_400(sender):
    bot = Bot()

    async def scenario():
        async with serve_channel(GuardedRestInput(RateLimiter(per_minute=60)), bot) as base:
            return await post(base, {"sender": sender, "message": "冒充别人"})

    status, payload, _ = run(scenario())
    assert status == 400 and payload["error"].startswith("'sender' must")
    assert bot.calls == []


@pytest.mark.parametrize("session", ["", "x" * 129, WECHAT_USERS_ID], ids=["empty", "long", "wechat-users-id"])
def test_socketio_refuses_a_bad_or_forged_session_id(session):
    bot = Bot()

    async def scenario():
        async with serve_channel(socket_channel(RateLimiter(per_minute=60)), bot) as base:
            client = await SocketClient().connect(base)
            confirmed = await client.request_session(session)  # a new id instead
            await client.sio.emit("user_uttered", {"message": "冒充别人", "session_id": session})  # ignored
            answer = await client.ask("你好", confirmed)
            await asyncio.sleep(0.2)
            await client.close()
            return confirmed, answer

    with pytest.warns(UserWarning, match="without a valid session_id"):
        confirmed, answer = run(scenario())
    assert confirmed != session and re.fullmatch(r"[0-9a-f]{32}", confirmed)
    assert answer == "收到：你好" and [call.sender_id for call in bot.calls] == [confirmed]


@pytest.mark.parametrize("openid", ["", "o" * 129, "o user"], ids=["empty", "long", "odd-characters"])
def test_wechat_refuses_a_bad_sender_with_a_400_and_a_forged_signature_with_a_403(openid):
    bot = Bot()

    async def scenario():
        async with wechat_harness.serve_channel(wechat_harness.make_channel(), bot) as wechat:
            bad, _, _ = await wechat.post(wechat_harness.text_xml("冒充别人", msg_id=1, openid=openid))
            params = wechat.query()
            params["signature"] = wechat_harness.sign("not-the-token", params["timestamp"], params["nonce"])
            forged, _, _ = await wechat.post(wechat_harness.text_xml("冒充别人", msg_id=2), params=params)
            return bad, forged

    assert run(scenario()) == (400, 403)
    assert bot.calls == []


# --- health route ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CHANNELS)
def test_every_channel_answers_the_same_health_route(kind):
    async def scenario():
        async with serve_channel(make_channel(kind, RateLimiter(per_minute=60)), Bot()) as base:
            async with aiohttp.ClientSession() as session, session.get(f"{base}/webhooks/{kind}/") as reply:
                return reply.status, await reply.json()

    assert run(scenario()) == (200, {"status": "ok"})


# --- the texts live in addons/messages.yml ----------------------------------------------------------------

CHANNEL_CODE = [
    ROOT / "addons" / "channels" / name
    for name in ("guard.py", "rate_limit.py", "rest_channel.py", "socketio_channel.py", "wechat_channel.py")
] + sorted((ROOT / "addons" / "channels" / "wechat").glob("*.py"))
CJK = re.compile(r"[\u3400-\u9fff]")  # ideographs (regexes may hold full-width punctuation)


def _docstrings(tree: ast.AST) -> set:
    nodes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return {id(n.body[0].value) for n in nodes if n.body and isinstance(n.body[0], ast.Expr)}


@pytest.mark.parametrize("path", CHANNEL_CODE, ids=lambda path: path.name)
def test_channel_code_holds_no_user_facing_chinese(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]
    assert [text for text in literals if CJK.search(text)] == []


def test_messages_yml_holds_every_key_and_speaks_to_the_user_as_ni():
    raw = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    assert set(raw) == set(MESSAGE_KEYS) and load_messages() == raw
    assert all("您" not in text for text in raw.values())
    assert all("110" in raw[key] for key in (SERVICE_UNAVAILABLE, RATE_LIMITED))
