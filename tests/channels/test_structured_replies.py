"""One bot utterance = one message, with its structured payload, in every channel.

An action sends `dispatcher.utter_message(text=..., buttons=[...], json_message={"structured": S})`.
Rasa's base OutputChannel would send the text (cut at blank lines) and then `custom`
as a separate message. Here each channel is driven over HTTP with a bot that sends
along Rasa's own path (socketio_harness.utter): the socket.io and REST channels emit
ONE message carrying text, buttons and custom; WeChat sends the text only.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, Dict, List

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from addons.channels.rate_limit import RateLimiter
from addons.channels.rest_channel import GuardedRestInput
from addons.channels.socketio_channel import PersistentSocketIOOutput

from . import wechat_harness
from .socketio_harness import (
    ADVICE_BUTTONS,
    ADVICE_TEXT,
    DOCUMENT_BODY,
    QUESTION_ANSWER,
    QUICK_REPLIES,
    STRUCTURED_ADVICE,
    STRUCTURED_DOCUMENT,
    STRUCTURED_REPLIES,
    ScriptedBot,
    run,
    serve_channel,
    utter,
)
from .test_rate_limit_and_errors import post, serve
from .test_socketio_persistence import Client, persistent_channel

QUICK = [{"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in ADVICE_BUTTONS]


# --- socket.io (the web widget) ---------------------------------------------------------


async def _socketio_turn(text: str) -> List[Dict[str, Any]]:
    """Every bot_uttered event the widget's socket gets for one user message."""
    session_id = uuid.uuid4().hex
    async with serve_channel(persistent_channel(), ScriptedBot()) as base_url:
        client = await Client().connect(base_url)
        await client.start_session(session_id)
        await client.say(text, session_id)
        events = [await client.reply()]
        try:
            while True:
                events.append(await client.reply(timeout=0.8))
        except asyncio.TimeoutError:
            pass
        await client.close()
        return events


def test_socketio_structured_answer_is_one_event_with_text_quick_replies_and_custom():
    events = run(_socketio_turn("/structured_advice"))
    assert events == [{"text": ADVICE_TEXT, "quick_replies": QUICK, "custom": {"structured": STRUCTURED_ADVICE}}]


def test_socketio_answer_without_custom_is_one_event_as_before_but_not_cut_at_blank_lines():
    events = run(_socketio_turn("催收的人闯进我家不走，合法吗？"))
    quick = [{"content_type": "text", **q} for q in QUICK_REPLIES]
    assert "\n\n" in QUESTION_ANSWER
    assert events == [{"text": QUESTION_ANSWER, "quick_replies": quick}]


def test_socketio_custom_only_message_is_one_event_without_text():
    events = run(_socketio_turn("/custom_only"))
    assert events == [{"custom": {"structured": STRUCTURED_DOCUMENT}}]


class RecordingServer:
    """Stands in for python-socketio's server: records what the output channel emits."""

    def __init__(self) -> None:
        self.emitted: List[Dict[str, Any]] = []

    async def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:
        self.emitted.append({"event": event, "data": data, **kwargs})


def test_socketio_output_keeps_images_as_their_own_event_in_the_namespace():
    sio = RecordingServer()
    output = PersistentSocketIOOutput(sio, "bot_uttered", namespace="/chat")  # type: ignore[arg-type]
    message = {
        "text": "看图",
        "buttons": None,
        "custom": {"structured": STRUCTURED_DOCUMENT},
        "image": "https://example.org/a.png",
        "attachment": None,
        "elements": None,
        "timestamp": None,
    }
    run(output.send_response("room-1", message))
    assert sio.emitted == [
        {
            "event": "bot_uttered",
            "data": {"text": "看图", "custom": {"structured": STRUCTURED_DOCUMENT}},
            "room": "room-1",
            "namespace": "/chat",
        },
        {
            "event": "bot_uttered",
            "room": "room-1",
            "namespace": "/chat",
            "data": {"attachment": {"type": "image", "payload": {"src": "https://example.org/a.png"}}},
        },
    ]
    assert output.sent == 2


def test_socketio_buttons_without_text_and_direct_custom_json_are_one_event_each():
    sio = RecordingServer()
    output = PersistentSocketIOOutput(sio, "bot_uttered")  # type: ignore[arg-type]
    run(output.send_response("r", {"text": None, "buttons": ADVICE_BUTTONS}))
    run(output.send_custom_json("r", {"structured": STRUCTURED_ADVICE}))
    run(output.send_response("r", {"text": "  ", "buttons": [], "custom": None}))  # nothing to say
    assert [e["data"] for e in sio.emitted] == [{"quick_replies": QUICK}, {"custom": {"structured": STRUCTURED_ADVICE}}]


# --- REST -------------------------------------------------------------------------------


def _rest_turn(text: str, stream: bool = False) -> Any:
    async def scenario():
        async with serve(GuardedRestInput(RateLimiter(per_minute=60)), ScriptedBot()) as base:
            params = {"stream": "true"} if stream else None
            return await post(base, {"sender": "alice", "message": text}, params=params)

    status, payload, _ = run(scenario())
    assert status == 200
    return payload


def test_rest_structured_answer_is_one_object_with_text_buttons_and_custom():
    assert _rest_turn("/structured_advice") == [
        {
            "recipient_id": "alice",
            "text": ADVICE_TEXT,
            "buttons": ADVICE_BUTTONS,
            "custom": {"structured": STRUCTURED_ADVICE},
        }
    ]


def test_rest_text_with_blank_lines_and_custom_only_are_one_object_each():
    assert _rest_turn("/structured_document") == [
        {"recipient_id": "alice", "text": DOCUMENT_BODY, "custom": {"structured": STRUCTURED_DOCUMENT}}
    ]
    assert _rest_turn("/custom_only") == [{"recipient_id": "alice", "custom": {"structured": STRUCTURED_DOCUMENT}}]
    assert _rest_turn("/ask_complaint") == [{"recipient_id": "alice", "text": ScriptedBot().answers["/ask_complaint"]}]


def test_rest_stream_mode_sends_one_line_per_utterance():
    async def scenario():
        async with serve(GuardedRestInput(RateLimiter(per_minute=60)), ScriptedBot()) as base:
            async with aiohttp.ClientSession() as session:
                body = json.dumps({"sender": "bob", "message": "/structured_advice"}).encode()
                url = f"{base}/webhooks/rest/webhook?stream=true"
                async with session.post(url, data=body) as reply:
                    return reply.status, await reply.text()

    status, text = run(scenario())
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert status == 200
    assert lines == [
        {
            "recipient_id": "bob",
            "text": ADVICE_TEXT,
            "buttons": ADVICE_BUTTONS,
            "custom": {"structured": STRUCTURED_ADVICE},
        }
    ]


# --- WeChat: the text only, never the payload --------------------------------------------


class UtteringBot:
    """Answers every WeChat message with the given utterances, along Rasa's path."""

    def __init__(self, utterances: List[Dict[str, Any]]) -> None:
        self.utterances = utterances
        self.calls: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.calls.append(message)
        await utter(message.output_channel, message.sender_id, self.utterances)


def _wechat_turn(utterances: List[Dict[str, Any]]):
    """The passive reply's Content (None for a bare `success`) and every pushed message."""
    bot = UtteringBot(utterances)

    async def scenario():
        async with wechat_harness.fake_wechat_api() as api:
            async with wechat_harness.serve_channel(wechat_harness.make_channel(api), bot) as wechat:
                status, body, params = await wechat.post(wechat_harness.text_xml("催收上门了"))
                assert status == 200
                await asyncio.sleep(0.5)  # anything pushed later would have arrived
                content = None if body == "success" else wechat.read_reply(body, params)["Content"]
                return content, list(api.sent)

    content, pushed = run(scenario())
    assert len(bot.calls) == 1
    return content, pushed


def test_wechat_structured_answer_is_sent_as_its_text_and_menu_only():
    content, pushed = _wechat_turn(STRUCTURED_REPLIES["/structured_advice"])
    assert content == ADVICE_TEXT + "\n回复 1 查看法律依据"
    assert pushed == []  # no extra message
    assert "structured" not in content and "{" not in content


def test_wechat_custom_only_utterance_adds_nothing():
    content, pushed = _wechat_turn(
        [{"text": "先说文字。"}, {"json_message": {"structured": STRUCTURED_ADVICE}}, {"text": "再说一句。"}]
    )
    assert content == "先说文字。\n\n再说一句。"
    assert pushed == []
    content, pushed = _wechat_turn([{"json_message": {"structured": STRUCTURED_ADVICE}}])
    assert content is None and pushed == []  # a bare `success`: WeChat shows nothing


@pytest.mark.parametrize("payload", ["/structured_document", "/structured_traditional"])
def test_wechat_other_structured_answers_are_their_text(payload):
    (utterance,) = STRUCTURED_REPLIES[payload]
    content, pushed = _wechat_turn([utterance])
    assert content == utterance["text"] and pushed == []
